// The notes' contents: a sidebar on a wide screen, a menu that opens on a narrow one (a phone),
// so that the page's own content starts on its first screen. Loaded as a plain script right
// after the menu (templates/base.html), so it closes before the page is first drawn.
(() => {
  const menu = document.getElementById("toc-menu");
  const narrow = window.matchMedia("(max-width: 800px)");
  const fit = () => { menu.open = !narrow.matches; };
  fit();
  narrow.addEventListener("change", fit);
})();
