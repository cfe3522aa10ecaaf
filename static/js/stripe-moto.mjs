// Card payments over the phone (MOTO) through Stripe: the agent keys the caller's card into Stripe's own card field
// (Stripe.js Elements, shown in Stripe's frames), Stripe.js makes a PaymentMethod of it, and the form posts only the
// PaymentMethod's id. The card details go from this browser to Stripe and nowhere else; the server confirms the
// payment with the id, flagged MOTO. Stripe.js is loaded from js.stripe.com by the page, before this module runs.

const FONT = '"GDS Transport", arial, sans-serif';

export function initStripeMoto(form) {
  const summary = document.querySelector("[data-moto-error-summary]");
  const group = form.querySelector("[data-moto-card-group]");
  const field = form.querySelector("#card-element");
  const message = form.querySelector("#card-element-error");
  const button = form.querySelector("[data-moto-submit]");

  function showError(text) {
    message.querySelector("[data-moto-error-text]").textContent = text;
    message.hidden = false;
    group.classList.add("govuk-form-group--error");
    field.classList.add("govuk-input--error");
    const link = summary.querySelector(".govuk-error-summary__list a");
    link.textContent = text;
    summary.hidden = false;
    document.title = document.title.startsWith("Error: ") ? document.title : `Error: ${document.title}`;
    const box = summary.querySelector(".govuk-error-summary");
    box.setAttribute("tabindex", "-1");
    box.focus();
  }

  function clearError() {
    message.hidden = true;
    group.classList.remove("govuk-form-group--error");
    field.classList.remove("govuk-input--error");
  }

  if (typeof window.Stripe !== "function") {
    button.disabled = true;
    showError("Stripe's card field did not load. Check the connection and reload the page.");
    return;
  }
  const stripe = window.Stripe(form.dataset.publishableKey, { locale: "en-GB" });
  const card = stripe.elements().create("card", {
    style: { base: { fontFamily: FONT, fontSize: "19px", color: "#0b0c0c" }, invalid: { color: "#d4351c" } },
  });
  card.mount(field);
  // As elsewhere on GOV.UK, nothing is checked while the agent types: errors are shown when the form is sent. A
  // correction clears the field's message.
  card.on("change", (event) => {
    if (!event.error) clearError();
  });

  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    sending = true;
    button.disabled = true;
    const { paymentMethod, error } = await stripe.createPaymentMethod({ type: "card", card });
    if (error) {
      showError(error.message);
      sending = false;
      button.disabled = false;
      return;
    }
    form.elements.payment_method.value = paymentMethod.id;
    form.submit(); // a plain post of the CSRF token and the PaymentMethod's id; this listener does not run again
  });
}

for (const form of document.querySelectorAll("[data-module='app-stripe-moto']")) {
  initStripeMoto(form);
}
