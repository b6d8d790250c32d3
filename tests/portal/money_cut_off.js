// The money cells of every shown table at the given viewport width, and why each is not fully
// readable: hidden while its row shows, outside the viewport, its text overflowing the cell, or
// clipped by an ancestor that does not let it overflow (a scrolling wrapper, overflow: hidden).
// Used by tests/portal/test_accessibility_browser.py (page.evaluate).

