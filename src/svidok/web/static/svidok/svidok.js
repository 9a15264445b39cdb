// Progressive enhancement only: every page works without this file.
"use strict";

// Upload with a progress bar: the same multipart POST the form would send,
// sent by XMLHttpRequest so its upload progress can be shown.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const results = document.getElementById("upload-results");
  form.addEventListener("submit", (event) => {
    const files = form.querySelector("input[type=file]").files;
    let total = 0;
    for (const file of files) total += file.size;
    const limit = Number(form.dataset.limit);
    if (limit && total > limit) {
      event.preventDefault();
      status.textContent = `${total.toLocaleString()} bytes selected; the limit is ${limit.toLocaleString()} bytes`;
      return;
    }
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("HX-Request", "true");
    bar.hidden = false;
    bar.value = 0;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = `${bar.value}%`;
      }
    });
    request.upload.addEventListener("load", () => { status.textContent = "…"; });
    request.addEventListener("load", () => {
      results.innerHTML = request.responseText;
      status.textContent = request.status === 200 ? "✓" : `HTTP ${request.status}`;
      button.disabled = false;
      if (request.status === 200) form.reset();
    });
    request.addEventListener("error", () => {
      status.textContent = "upload failed: connection lost";
      button.disabled = false;
    });
    request.send(new FormData(form));
  });
});
