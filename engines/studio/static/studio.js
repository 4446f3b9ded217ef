// cutlite studio: a client of the engine's own HTTP API. No build step, no framework.
// Every request carries the API key (Authorization: Bearer), asked for once and kept in this tab's
// sessionStorage, never in a URL; the key decides the tenant and env. The server sends object
// names and keys only, never a server path.
(function () {
  "use strict";

  const KEY = "cutlite.key";
  const scope = { tenant: "", env: "", role: "" };
  const HEADERS = {};
  const $ = (id) => document.getElementById(id);
  const video = $("player");

  const state = {
    project: null,        // the project document
    timeline: null,       // /studio/api/timeline's answer
    pps: 0,               // pixels per second on the timeline
    playhead: 0,          // seconds on the project's timeline
    session: null,        // the preview session being played
    hls: null,
    token: 0,             // bumped by every scrub: older windows are dropped
    still: null,          // the scrubbed time's composed frame: {url, seconds, frame}, the player's poster
    job: null,
    poll: null,
    assets: {},           // asset_id -> {filmstrip: Promise, peaks: Promise}
  };
  window.studio = state;  // for people (and tests) poking at the page

  // ------------------------------------------------------------------ requests and errors

  class ApiError extends Error {
    constructor(error, status) { super(error.message); this.error = error; this.status = status; }
  }

  async function request(method, path, body, asJson = true) {
    const init = { method, headers: { ...HEADERS } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const res = await fetch(path, init);
    if (res.status === 401) { forgetKey(); }
    if (!res.ok) {
      let error = { code: "http_" + res.status, message: `${method} ${path}: HTTP ${res.status}`, hint: null, context: {} };
      try { const doc = await res.json(); if (doc && doc.error) error = doc.error; } catch (_) { /* not JSON */ }
      throw new ApiError(error, res.status);
    }
    return asJson ? res.json() : res;
  }

  function showError(err) {
    const box = $("error");
    const e = err instanceof ApiError ? err.error
      : err instanceof Error ? { message: err.message, hint: null, context: {} } : { context: {}, ...err };
    box.querySelector(".message").textContent = e.message;
    box.querySelector(".hint").textContent = e.hint ? "Hint: " + e.hint : "";
    const list = box.querySelector(".problems");
    list.replaceChildren(...((e.context && e.context.problems) || []).map((p) => el("li", {}, p)));
    box.dataset.code = e.code || "";
    box.hidden = false;
  }

  function clearError() { $("error").hidden = true; }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "style") Object.assign(node.style, v); else if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ------------------------------------------------------------------ opening a project

  async function openFile(file) {
    clearError();
    const text = await file.text();
    let doc = null;
    if (/\.json$/i.test(file.name)) {
      try { doc = JSON.parse(text); } catch (e) { showError({ message: `${file.name} is not valid JSON: ${e.message}` }); return; }
    }
    if (doc && typeof doc === "object" && "schema_version" in doc) return loadProject(doc, file.name);
    // another editor's timeline (CapCut draft, OTIO, ...): the engine's import converts it
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const imported = await request("POST", "/video_render/import", form);
      await loadProject(imported.project, file.name, imported.warnings || []);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405) && err.error.code === "http_error") {
        showError({ code: "import_unavailable", message: `${file.name} is not a cutlite project, and this server cannot ` +
          "import other formats (POST /video_render/import is not available here).",
          hint: "open a cutlite project JSON, or convert the file with `cutlite import FILE -o project.json`" });
      } else showError(err);
    }
  }

  async function loadProject(doc, label, importWarnings = []) {
    clearError();
    stopPreview();
    let view;
    try {
      view = await request("POST", "/studio/api/timeline", { project: doc });
    } catch (err) { showError(err); return false; }
    state.project = doc;
    state.timeline = view;
    state.playhead = 0;
    $("project-name").textContent = `${view.id} (${label || "project"}) · ${view.width}×${view.height} @ ${view.fps} fps · ${view.duration_seconds.toFixed(3)} s`;
    const missing = Object.entries(view.assets).filter(([, a]) => a.problem).map(([n, a]) => `assets.${n}: ${a.problem}`);
    showWarnings([...importWarnings, ...missing]);
    drawTimeline();
    $("play").disabled = false;
    $("render").disabled = false;
    document.body.dataset.loaded = view.id;
    return true;
  }

  async function loadRecent() {
    try {
      const { projects } = await request("GET", "/studio/api/projects");
      const sel = $("recent");
      sel.replaceChildren(el("option", { value: "" }, projects.length ? "recent projects…" : "no rendered projects yet"),
        ...projects.map((p) => el("option", { value: p.job_id }, `${p.id} (${p.profile}, ${p.state})`)));
    } catch (err) { /* the list is a convenience: errors show when a project is opened */ }
  }

  // ------------------------------------------------------------------ timeline

  function drawTimeline() {
    const view = state.timeline;
    const box = $("timeline");
    box.hidden = false;
    const ruler = $("ruler");
    const width = Math.max(200, ruler.getBoundingClientRect().width || box.clientWidth - 130);
    state.pps = width / Math.max(view.duration_seconds, 0.001);
    drawRuler(ruler, view.duration_seconds, state.pps);
    ruler.dataset.pxPerSecond = String(state.pps);
    const tracks = $("tracks");
    tracks.replaceChildren();
    for (const track of [...view.tracks].reverse()) {      // the top track first, as editors show them
      const lane = el("div", { class: "lane", "data-track": track.id, "data-px-per-second": String(state.pps) });
      for (const clip of track.clips) lane.appendChild(clipBox(track, clip));
      for (const clip of track.clips) {
        if (!clip.transition) continue;
        const t = clip.transition;
        lane.appendChild(el("div", { class: "transition", "data-transition": t.type, title: t.type,
          style: { left: px(t.start_seconds), width: px(t.end_seconds - t.start_seconds) } }, t.type));
      }
      const row = el("div", { class: "row track", "data-track": track.id });
      row.append(el("div", { class: "head" }, `${track.id} · ${track.kind}`), lane);
      tracks.appendChild(row);
    }
    for (const lane of box.querySelectorAll(".lane")) lane.addEventListener("mousedown", onScrub);
    movePlayhead(state.playhead);
  }

  function px(seconds) { return (seconds * state.pps).toFixed(2) + "px"; }

  function drawRuler(ruler, duration, pps) {
    ruler.replaceChildren();
    const steps = [0.04, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
    const step = steps.find((s) => s * pps >= 60) || 3600;
    for (let i = 0; i * step <= duration + 1e-9; i++) {
      const t = i * step;
      ruler.appendChild(el("div", { class: "tick", style: { left: px(t) } }, formatTime(t, step)));
    }
  }

  function formatTime(t, step) {
    const m = Math.floor(t / 60), s = t - m * 60;
    const digits = step < 1 ? (step < 0.1 ? 2 : 1) : 0;
    return (m ? `${m}:${s.toFixed(digits).padStart(digits ? 3 + digits : 2, "0")}` : `${s.toFixed(digits)}s`);
  }

  function clipBox(track, clip) {
    const asset = clip.asset ? state.timeline.assets[clip.asset] : null;
    const classes = ["clip", "kind-" + track.kind];
    if (clip.text !== null && clip.text !== undefined) classes.push("text");
    if (asset && asset.problem) classes.push("missing");
    const box = el("div", { class: classes.join(" "), "data-clip": clip.id, "data-start": clip.start, "data-end": clip.end,
      title: `${clip.id}: ${clip.start_seconds.toFixed(3)}–${clip.end_seconds.toFixed(3)} s` + (asset && asset.problem ? ` — ${asset.problem}` : ""),
      style: { left: px(clip.start_seconds), width: px(clip.end_seconds - clip.start_seconds) } });
    box.appendChild(el("span", { class: "label" }, clip.text ? `“${clip.text}”` : `${clip.id} · ${clip.asset || ""}`));
    if ((clip.looks || []).length) {  // the clip's effects, mask, blend, canvas, text style, in drawing order
      const looks = el("div", { class: "looks" });
      for (const look of clip.looks) {
        const detail = Object.entries(look.fields).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ");
        looks.appendChild(el("span", { class: "look", "data-kind": look.kind, "data-look": look.label,
          title: detail ? `${look.label} — ${detail}` : look.label }, look.label));
      }
      box.appendChild(looks);
    }
    for (const key of clip.keyframes || []) {  // one marker per keyframe, at its timeline time
      const ease = Array.isArray(key.ease) ? `cubic-bezier(${key.ease.join(", ")})` : key.ease;
      box.appendChild(el("div", { class: "kf", "data-field": key.field, "data-at": key.exact,
        title: `${key.field} = ${key.value} at ${key.seconds.toFixed(3)} s (${ease})`,
        style: { left: px(key.seconds - clip.start_seconds) } }));
    }
    if (asset && asset.asset_id && asset.has_video && track.kind !== "audio") {
      const strip = el("div", { class: "strip" });
      box.appendChild(strip);
      filmstrip(asset.asset_id).then((fs) => fillStrip(strip, fs, clip)).catch(() => {});
    }
    if (asset && asset.asset_id && asset.has_audio && !clip.muted) {
      const canvas = el("canvas", { class: "wave" });
      box.appendChild(canvas);
      peaks(asset.asset_id).then((pk) => drawWave(canvas, pk, clip)).catch(() => {});
    }
    return box;
  }

  function cached(assetId, what, make) {
    const entry = state.assets[assetId] || (state.assets[assetId] = {});
    return entry[what] || (entry[what] = make());
  }

  function filmstrip(assetId) {
    return cached(assetId, "filmstrip", async () => {
      const base = `/studio/api/assets/${assetId}/`;
      const [vtt, sprite] = await Promise.all([
        request("GET", base + "filmstrip.vtt", undefined, false).then((r) => r.text()),
        request("GET", base + "filmstrip.jpg", undefined, false).then((r) => r.blob())]);
      return { cues: parseCues(vtt), url: URL.createObjectURL(sprite) };
    });
  }

  function parseCues(text) {
    const cues = [];
    const re = /(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})\s*\n[^#\n]*#xywh=(\d+),(\d+),(\d+),(\d+)/g;
    let m;
    while ((m = re.exec(text))) {
      const t = (i) => +m[i] * 3600 + +m[i + 1] * 60 + +m[i + 2] + +m[i + 3] / 1000;
      cues.push({ start: t(1), end: t(5), x: +m[9], y: +m[10], w: +m[11], h: +m[12] });
    }
    return cues;
  }

  function fillStrip(strip, fs, clip) {
    if (!fs.cues.length) return;
    const spriteW = Math.max(...fs.cues.map((c) => c.x + c.w)), spriteH = Math.max(...fs.cues.map((c) => c.y + c.h));
    const k = 40 / fs.cues[0].h, tileW = fs.cues[0].w * k;
    const width = (clip.end_seconds - clip.start_seconds) * state.pps;
    for (let x = 0; x < width; x += tileW) {
      const t = clip.source_in_seconds + ((x + tileW / 2) / state.pps) * clip.speed;  // source time at the tile's middle
      const cue = fs.cues.find((c) => t >= c.start && t < c.end) || fs.cues[fs.cues.length - 1];
      strip.appendChild(el("div", { style: { width: tileW + "px", backgroundImage: `url(${fs.url})`,
        backgroundSize: `${spriteW * k}px ${spriteH * k}px`, backgroundPosition: `${-cue.x * k}px ${-cue.y * k}px` } }));
    }
  }

  function peaks(assetId) {
    return cached(assetId, "peaks", () => request("GET", `/studio/api/assets/${assetId}/waveform.json`));
  }

  function drawWave(canvas, pk, clip) {
    const w = canvas.width = Math.max(1, Math.round(canvas.clientWidth || (clip.end_seconds - clip.start_seconds) * state.pps));
    const h = canvas.height = Math.max(1, canvas.clientHeight || 16);
    const g = canvas.getContext("2d");
    g.fillStyle = "rgba(160, 240, 170, 0.85)";
    const perSecond = pk.sample_rate / pk.samples_per_pixel;
    // quiet sound is drawn up to 8 times taller (normalised per asset), so a bed under speech shows
    if (pk.gain === undefined) pk.gain = Math.min(8, Math.max(1, 110 / pk.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1)));
    for (let x = 0; x < w; x++) {
      const s0 = clip.source_in_seconds + (x / state.pps) * clip.speed, s1 = clip.source_in_seconds + ((x + 1) / state.pps) * clip.speed;
      let lo = 127, hi = -128;
      for (let b = Math.floor(s0 * perSecond); b < Math.max(Math.floor(s0 * perSecond) + 1, Math.ceil(s1 * perSecond)) && b < pk.length; b++) {
        lo = Math.min(lo, pk.data[2 * b]); hi = Math.max(hi, pk.data[2 * b + 1]);
      }
      if (hi < lo) continue;
      const y0 = h / 2 - (hi * pk.gain / 128) * (h / 2), y1 = h / 2 - (lo * pk.gain / 128) * (h / 2);
      g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
    }
  }

  function movePlayhead(t) {
    state.playhead = t;
    const ruler = $("ruler");
    const head = $("playhead");
    head.style.left = (ruler.offsetLeft + t * state.pps).toFixed(2) + "px";
    head.dataset.seconds = t.toFixed(3);
    $("time").textContent = t.toFixed(3) + " s";
  }

  function onScrub(ev) {
    if (!state.timeline || ev.button !== 0) return;
    const lane = ev.currentTarget.getBoundingClientRect();
    const t = Math.min(Math.max(0, (ev.clientX - lane.left) / state.pps), state.timeline.duration_seconds - 0.001);
    movePlayhead(t);
    startWindow(t);
  }

  // ------------------------------------------------------------------ preview player

  function stopPreview() {
    state.token++;
    if (state.hls) { state.hls.destroy(); state.hls = null; }
    video.pause();
    video.removeAttribute("src");
    video.load();
    if (state.session) {
      request("DELETE", `/studio/api/previews/${state.session.session}`).catch(() => {});
      state.session = null;
    }
  }

  // The composed frame at the scrubbed time, at once (POST /video_render/stills): the player shows it as
  // its poster while the window around it renders.
  async function showStill(t, token) {
    try {
      const res = await request("POST", "/video_render/stills",
        { project: state.project, at: [Math.round(t * 1000) / 1000], profile: "draft_360p" }, false);
      const url = URL.createObjectURL(await res.blob());
      if (token !== state.token) { URL.revokeObjectURL(url); return; }
      if (state.still) URL.revokeObjectURL(state.still.url);
      state.still = { url, seconds: t, frame: Number(res.headers.get("X-Cutlite-Frames")) };
      video.poster = url;
    } catch (err) { /* the window's own request reports what is wrong */ }
  }

  async function startWindow(t) {
    stopPreview();
    const token = state.token;
    showStill(t, token);
    $("preview-status").textContent = `rendering the window at ${t.toFixed(3)} s…`;
    let session;
    try {
      session = await request("POST", "/studio/api/previews",
        { project: state.project, strategy: $("strategy").value, start: Math.round(t * 1000) / 1000 });
    } catch (err) {
      if (token === state.token) { $("preview-status").textContent = "preview failed"; showError(err); }
      return;
    }
    if (token !== state.token) {  // scrubbed again meanwhile: this window is not wanted
      request("DELETE", `/studio/api/previews/${session.session}`).catch(() => {});
      return;
    }
    clearError();
    state.session = session;
    $("preview-status").textContent = `${session.profile}, window ${session.window.start_seconds.toFixed(3)}–` +
      `${session.window.end_seconds.toFixed(3)} s, first segment in ${session.first_segment_ms} ms ` +
      `(estimated ${session.estimated_latency_ms} ms)`;
    showWarnings(session.warnings);
    attach(session);
  }

  function attach(session) {
    if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls({
        startPosition: 0,
        xhrSetup: (xhr) => { xhr.setRequestHeader("Authorization", HEADERS.Authorization); },
      });
      state.hls = hls;
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => {}); });
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) { showError({ message: `preview playback failed: ${data.details}` }); checkSession(session); }
      });
      hls.loadSource(session.playlist);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      attachNative(session);
    } else {
      showError({ message: "this browser plays neither HLS nor Media Source Extensions" });
    }
  }

  async function attachNative(session) {
    // A browser's own HLS player cannot send headers: the session cookie (HttpOnly, SameSite=Strict,
    // set by POST /studio/api/session) lets its requests through. It gets the finished window:
    // Chromium's player fails on a growing EVENT playlist (measured).
    const token = state.token;
    for (;;) {
      let s;
      try { s = await request("GET", `/studio/api/previews/${session.session}`); } catch (err) { return; }
      if (token !== state.token) return;
      if (s.state === "failed") { showError(new ApiError(s.error, 500)); return; }
      if (s.state === "done") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    video.src = session.playlist;
    video.play().catch(() => {});
  }

  async function checkSession(session) {
    try {
      const s = await request("GET", `/studio/api/previews/${session.session}`);
      if (s.error) showError(new ApiError(s.error, 500));
    } catch (err) { /* gone: a newer window replaced it */ }
  }

  function tick() {
    if (state.session && !video.paused && state.timeline) {
      movePlayhead(Math.min(state.session.window.start_seconds + video.currentTime, state.timeline.duration_seconds));
    }
    requestAnimationFrame(tick);
  }

  video.addEventListener("ended", () => {
    const s = state.session;
    if (s && state.timeline && s.window.end_seconds < state.timeline.duration_seconds - 1e-6) {
      movePlayhead(s.window.end_seconds);
      startWindow(s.window.end_seconds);   // play on: the next window
    }
  });

  function showWarnings(list) {
    const ul = $("warnings");
    ul.replaceChildren(...(list.length ? list.map((w) => el("li", {}, w)) : [el("li", { class: "none" }, "none")]));
  }

  // ------------------------------------------------------------------ render jobs

  async function startRender() {
    clearError();
    $("download").disabled = true;
    try {
      const job = await request("POST", "/video_render/jobs", { project: state.project, profile: $("profile").value });
      showJob(job);
      if (!isDone(job.state)) state.poll = setInterval(pollJob, 500);
    } catch (err) { showError(err); }
  }

  function isDone(s) { return s === "COMPLETED" || s === "FAILED" || s === "CANCELED"; }

  async function pollJob() {
    if (!state.job) return;
    try {
      const job = await request("GET", `/video_render/jobs/${state.job.id}`);
      showJob(job);
      if (isDone(job.state)) { clearInterval(state.poll); state.poll = null; loadRecent(); }
    } catch (err) { clearInterval(state.poll); state.poll = null; showError(err); }
  }

  function showJob(job) {
    state.job = job;
    $("render-progress").value = job.state === "COMPLETED" ? 1 : job.progress;
    const box = $("render-state");
    box.textContent = `${job.id}: ${job.state} ${(100 * (job.state === "COMPLETED" ? 1 : job.progress)).toFixed(0)} %` +
      (job.frames ? `, ${job.frames} frames` : "");
    box.dataset.state = job.state;
    $("cancel").disabled = isDone(job.state);
    $("download").disabled = job.state !== "COMPLETED";
    if (job.error && job.state !== "COMPLETED") showError(new ApiError(job.error, 500));
  }

  async function cancelRender() {
    if (!state.job) return;
    try { showJob(await request("POST", `/video_render/jobs/${state.job.id}/cancel`)); } catch (err) { showError(err); }
  }

  async function download() {
    if (!state.job) return;
    try {
      const res = await request("GET", `/studio/api/jobs/${state.job.id}/output`, undefined, false);
      const url = URL.createObjectURL(await res.blob());
      const ext = (state.job.output_key || "output.mp4").split(".").pop();  // the profile's container
      const a = el("a", { href: url, download: `${state.job.id}.${ext}`, id: "download-link" });
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { a.remove(); URL.revokeObjectURL(url); }, 60000);
    } catch (err) { showError(err); }
  }

  // ------------------------------------------------------------------ wiring

  // ------------------------------------------------------------------ the API key

  function askForKey(message) {
    $("key-form").hidden = false;
    $("scope").textContent = "no key";
    if (message) showError({ code: "unauthorized", message, hint: "paste an API key: `cutlite keys create --tenant T " +
      "--env E` prints one (a first `cutlite serve` in dev prints a one-time key)" });
    $("key").focus();
  }

  function forgetKey() {
    sessionStorage.removeItem(KEY);
    delete HEADERS.Authorization;
    document.body.dataset.scope = "";
    askForKey("the API key was refused (unknown or revoked)");
  }

  async function useKey(secret) {
    HEADERS.Authorization = "Bearer " + secret;
    let who;
    try { who = await request("POST", "/studio/api/session"); } catch (err) { showError(err); return; }
    sessionStorage.setItem(KEY, secret);
    Object.assign(scope, { tenant: who.tenant, env: who.env, role: who.role });
    $("key-form").hidden = true;
    $("key").value = "";
    clearError();
    $("scope").textContent = `${scope.tenant} / ${scope.env} (${scope.role})`;
    document.body.dataset.scope = `${scope.tenant}/${scope.env}`;
    loadRecent();
  }

  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const secret = $("key").value.trim();
    if (secret) useKey(secret);
  });
  if (sessionStorage.getItem(KEY)) useKey(sessionStorage.getItem(KEY));
  else askForKey("this studio needs an API key");
  $("project-file").addEventListener("change", (ev) => { const f = ev.target.files[0]; if (f) openFile(f); ev.target.value = ""; });
  $("recent").addEventListener("change", async (ev) => {
    if (!ev.target.value) return;
    try { const { project } = await request("GET", `/studio/api/projects/${ev.target.value}`); await loadProject(project, "recent"); }
    catch (err) { showError(err); }
  });
  $("play").addEventListener("click", () => {
    const s = state.session;
    if (s && video.paused && state.playhead >= s.window.start_seconds && state.playhead < s.window.end_seconds && video.readyState > 0) {
      video.play().catch(() => {});
    } else if (s && !video.paused) {
      video.pause();
    } else if (state.timeline) {
      startWindow(state.playhead);
    }
  });
  video.addEventListener("play", () => { $("play").textContent = "Pause"; });
  video.addEventListener("pause", () => { $("play").textContent = "Play"; });
  $("render").addEventListener("click", startRender);
  $("cancel").addEventListener("click", cancelRender);
  $("download").addEventListener("click", download);
  window.addEventListener("resize", () => { if (state.timeline) drawTimeline(); });
  state.loadProject = loadProject;   // lets a test (or the console) open a document directly
  requestAnimationFrame(tick);
})();
