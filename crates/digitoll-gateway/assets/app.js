// digitoll dashboard: small progressive enhancements (the pages work without it).
// After a server-side check, move focus to the first field with an error so
// keyboard and screen-reader users land on it.
document.addEventListener("DOMContentLoaded", function () {
  var bad = document.querySelector("[aria-invalid='true']");
  if (bad) { bad.focus(); }
});
