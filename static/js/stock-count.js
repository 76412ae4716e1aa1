// The stock count sheet: a scanned barcode (or typed SKU) and Enter add one to that
// product's counted quantity, so a person can count a shelf by scanning each item.
document.addEventListener("DOMContentLoaded", () => {
  const scan = document.getElementById("count-scan");
  const message = document.getElementById("scan-message");
  if (!scan) return;
  scan.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();  // Enter here counts; it does not post the sheet
    const code = scan.value.trim();
    scan.value = "";
    if (!code) return;
    const rows = document.querySelectorAll("#count-sheet tbody tr");
    const row = Array.from(rows).find(
      (r) => r.dataset.barcode === code || r.dataset.sku === code.toUpperCase());
    if (!row) {
      message.textContent = `${code}: not on this sheet`;
      return;
    }
    const input = row.querySelector("input");
    input.value = String((parseInt(input.value, 10) || 0) + 1);
    message.textContent = `${row.dataset.sku}: ${input.value}`;
  });
});
