// Copy buttons of the portal's bank details: the exact reference, without selecting by hand.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const label = button.textContent;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = button.dataset.copied;
      setTimeout(() => { button.textContent = label; }, 2000);
    } catch (error) {
      const shown = button.previousElementSibling;
      if (shown) window.getSelection().selectAllChildren(shown);  // select it to copy by hand
    }
  });
});
