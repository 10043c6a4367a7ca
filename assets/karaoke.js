// Karaoke view: highlight the word being spoken while the audio plays; click a word to seek.
// Media events do not bubble, so listen on the document in the capture phase: this also covers
// players that Gradio re-renders after each result.
(() => {
  const update = (audio) => {
    const box = audio.closest(".karaoke");
    if (!box) return;
    const t = audio.currentTime;
    for (const span of box.querySelectorAll(".kw")) {
      const on = t >= parseFloat(span.dataset.start) && t < parseFloat(span.dataset.end);
      span.classList.toggle("active", on);
      span.classList.toggle("spoken", !on && t >= parseFloat(span.dataset.end));
    }
  };
  for (const type of ["timeupdate", "seeked", "play"]) {
    document.addEventListener(type, (e) => { if (e.target.tagName === "AUDIO") update(e.target); }, true);
  }
  document.addEventListener("click", (e) => {
    const span = e.target.closest && e.target.closest(".karaoke .kw");
    if (!span) return;
    const audio = span.closest(".karaoke").querySelector("audio");
    audio.currentTime = parseFloat(span.dataset.start) + 0.001;
    update(audio);
    audio.play();
  });
})();
