/* Add Credit with Stripe.js (works on real Stripe and on localstripe's fake Stripe.js).
 *
 * 1. POST the amount to the portal: it checks it, records the deposit and returns a SetupIntent
 *    client secret (or none, when paying with the saved card).
 * 2. stripe.confirmCardSetup with the card element: the card goes to Stripe, never to us.
 * 3. POST to the deposit's confirm URL: the server creates and confirms the PaymentIntent.
 * 4. If the bank wants 3-D Secure, stripe.confirmCardPayment shows it.
 * 5. Go to the return page, which asks Stripe and credits the balance once.
 */
(function () {
  "use strict";

  function show(el, text) {
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }

  function firstError(errors) {
    const messages = [];
    Object.keys(errors || {}).forEach(function (field) {
      (errors[field] || []).forEach(function (e) { messages.push(e.message || String(e)); });
    });
    return messages;
  }

  async function postForm(url, body, csrf) {
    const response = await fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": csrf},
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {ok: false, error: "Unexpected answer from the server (" + response.status + ")."}; }
    return data;
  }

  function addCredit(form) {
    const stripe = Stripe(form.dataset.publishableKey);
    const elements = stripe.elements();
    const card = elements.create("card", {hidePostalCode: true});
    card.mount("#card-element");

    const amount = form.querySelector("[name=amount]");
    const amountErrors = document.getElementById("amount-errors");
    const errorBox = document.getElementById("add-credit-error");
    const status = document.getElementById("add-credit-status");
    const submit = document.getElementById("add-credit-submit");
    const newCard = form.querySelector(".new-card");
    const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;

    form.querySelectorAll("[data-amount]").forEach(function (button) {
      button.addEventListener("click", function () { amount.value = button.dataset.amount; amount.focus(); });
    });
    form.querySelectorAll("[name=use_saved_card]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        newCard.hidden = form.querySelector("[name=use_saved_card]:checked").value === "on";
      });
    });

    function usingSavedCard() {
      const checked = form.querySelector("[name=use_saved_card]:checked");
      return checked !== null && checked.value === "on";
    }

    function fail(message) {
      show(status, "");
      show(errorBox, message);
      submit.disabled = false;
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      show(errorBox, "");
      amountErrors.innerHTML = "";
      amountErrors.hidden = true;
      submit.disabled = true;
      show(status, "Checking the amount…");

      const body = new FormData(form);
      if (!usingSavedCard()) { body.delete("use_saved_card"); }
      const started = await postForm(form.action, body, csrf);
      if (!started.ok) {
        const messages = firstError(started.errors);
        if (started.errors && started.errors.amount) {
          started.errors.amount.forEach(function (e) {
            const li = document.createElement("li");
            li.textContent = e.message;
            amountErrors.appendChild(li);
          });
          amountErrors.hidden = false;
          fail("");
        } else {
          fail(messages.join(" ") || started.error || "Something went wrong; nothing was charged.");
        }
        return;
      }

      let setupIntent = "";
      if (started.setup_client_secret) {
        show(status, "Checking your card…");
        const setup = await stripe.confirmCardSetup(started.setup_client_secret, {payment_method: {card: card}});
        if (setup.error) {
          fail((setup.error.message || "Your card could not be used.") + " Nothing was charged.");
          return;
        }
        setupIntent = setup.setupIntent.id;
      }

      show(status, "Charging your card…");
      const confirmBody = new FormData();
      confirmBody.append("setup_intent", setupIntent);
      const confirmed = await postForm(started.confirm_url, confirmBody, csrf);
      if (!confirmed.ok) {
        fail((confirmed.error || "The payment failed.") + " Nothing was charged.");
        return;
      }
      if (confirmed.status === "requires_action" && confirmed.client_secret) {
        show(status, "Waiting for your bank's confirmation…");
        await stripe.confirmCardPayment(confirmed.client_secret);
      }
      show(status, "Finishing…");
      window.location.assign(confirmed.return_url);
    });
  }

  function authenticate(box) {
    const stripe = Stripe(box.dataset.publishableKey);
    const button = document.getElementById("authenticate-button");
    const errorBox = document.getElementById("authenticate-error");
    button.addEventListener("click", async function () {
      button.disabled = true;
      show(errorBox, "");
      const data = box.dataset.paymentMethod ? {payment_method: box.dataset.paymentMethod} : undefined;
      const result = await stripe.confirmCardPayment(box.dataset.clientSecret, data);
      if (result.error && !result.paymentIntent) {
        show(errorBox, result.error.message || "The confirmation did not work.");
      }
      window.location.assign(box.dataset.returnUrl);
    });
  }

  const form = document.getElementById("add-credit-form");
  if (form && typeof Stripe !== "undefined") { addCredit(form); }
  const box = document.getElementById("authenticate");
  if (box && typeof Stripe !== "undefined") { authenticate(box); }
})();
