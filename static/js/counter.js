// The counter's behaviour that the Content-Security-Policy keeps out of the HTML
// (no inline scripts or hx-on attributes): clear the cart after a recorded sale.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target.closest && event.target.closest("#sale-form");
  if (form && event.detail.successful) form.reset();
});
