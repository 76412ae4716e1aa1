// The counter's behaviour that the Content-Security-Policy keeps out of the HTML (no
// inline scripts, no hx-on attributes): filter the tiles as the cashier types, keep the
// focus where a keyboard user expects it, and print receipts.
(() => {
  const $ = (selector) => document.querySelector(selector);
  let category = "";

  // Search as you type: hide the variants (and tiles) that do not match every word.
  function filterTiles() {
    const search = $("#search");
    if (!search) return;
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll("#tiles .tile").forEach((tile) => {
      let shown = 0;
      tile.querySelectorAll(".variant").forEach((button) => {
        const text = button.dataset.search || "";
        const match = words.every((w) => text.includes(w));
        button.hidden = !match;
        if (match) shown += 1;
      });
      tile.hidden = shown === 0 || (category !== "" && tile.dataset.category !== category);
    });
  }

  document.addEventListener("input", (event) => {
    if (event.target.id === "search") filterTiles();
  });

  document.addEventListener("click", (event) => {
    const tab = event.target.closest(".tab");
    if (tab) {
      category = tab.dataset.category;
      document.querySelectorAll(".tab").forEach((t) => t.setAttribute("aria-pressed", String(t === tab)));
      filterTiles();
    }
    if (event.target.closest("[data-print]")) window.print();
  });

  // After a scan: clear the box for the next code, or select a bad one to overwrite.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.target.closest && event.target.closest("#scan-form");
    const search = $("#search");
    if (!form || !search) return;
    if (event.detail.xhr.status < 400) {
      search.value = "";
      filterTiles();
    } else {
      search.select();
    }
    search.focus();
  });

  // A new, empty cart: back to the search box.
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id === "cart-panel" && $("#cart-empty") && !$("#cart-message.error")) {
      const search = $("#search");
      if (search && document.activeElement !== search) search.focus();
    }
  });

  // Shortcuts: F2 search, F4 cash tendered, Escape clears the search.
  document.addEventListener("keydown", (event) => {
    if (event.key === "F2") {
      event.preventDefault();
      $("#search")?.focus();
    } else if (event.key === "F4") {
      event.preventDefault();
      $("#tendered")?.focus();
    } else if (event.key === "Escape" && event.target.id === "search") {
      event.target.value = "";
      filterTiles();
    }
  });
})();
