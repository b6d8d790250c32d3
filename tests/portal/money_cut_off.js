// The money cells of every shown table at the given viewport width, and why each is not fully
// readable: hidden while its row shows, outside the viewport, its text overflowing the cell, or
// clipped by an ancestor that does not let it overflow (a scrolling wrapper, overflow: hidden).
// Used by tests/portal/test_accessibility_browser.py (page.evaluate).
(width) => {
  const money = /[−+-]?\$\d/;
  const name = (el, depth = 0) => {
    let s = el.tagName.toLowerCase();
    if (el.id) return s + "#" + el.id;
    if (el.classList.length) s += "." + [...el.classList].join(".");
    const parent = el.parentElement;
    if (!parent || parent === document.body) return s;
    s += ":nth-child(" + ([...parent.children].indexOf(el) + 1) + ")";
    return depth < 3 ? name(parent, depth + 1) + " > " + s : s;
  };
  const shown = (el) => el.getClientRects().length > 0;
  const found = [];
  for (const cell of document.querySelectorAll("table td, table th")) {
    const text = cell.textContent.replace(/\s+/g, " ").trim();
    if (!money.test(text)) continue;
    const row = cell.closest("tr");
    if (!shown(cell.closest("table")) || (row && !shown(row))) continue;
    const box = cell.getBoundingClientRect();
    let why = null;
    if (!shown(cell) || box.width === 0) {
      why = "hidden";
    } else if (box.left < -0.5 || box.right > width + 0.5) {
      why = `outside the ${width}px viewport (x ${Math.round(box.left)} to ${Math.round(box.right)})`;
    } else if (getComputedStyle(cell).overflowX !== "visible" && cell.scrollWidth > cell.clientWidth + 1) {
      why = "its own text overflows the cell";
    } else {
      for (let up = cell.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX === "visible") continue;
        const frame = up.getBoundingClientRect();
        if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5) {
          why = `clipped by ${name(up)} (overflow-x: ${getComputedStyle(up).overflowX})`;
          break;
        }
      }
    }
    if (why) found.push({cell: name(cell), text: text.slice(0, 40), why});
  }
  return found;
}
