// The action inbox: a changed filter applies at once (the form still works without scripts).
const form = document.getElementById("action-filters");
if (form) {
  const kind = form.querySelector("#filter-kind");
  const state = form.querySelector("#filter-state");
  if (kind) {
    // Another kind has other states: the state filter starts over.
    kind.addEventListener("change", () => {
      if (state) state.value = "";
      form.submit();
    });
  }
  if (state) state.addEventListener("change", () => form.submit());
}
