// The phone filing page (/grids/file/). Without this script the page is an ordinary form; with it:
// - the category picker shows the five duties first, then the chosen duty's sub-categories;
// - photos are shrunk on the device (canvas → JPEG, long side ≤ 1600 px) before they are sent;
// - the GPS button fills in the point (refused outside the county's rectangle);
// - the resident is found by typing a name or household number;
// - similar open cases are suggested, with a "我也遇到" button;
// - a draft is kept on the device (IndexedDB) as the user types;
// - a submit without network is queued on the device ("待发送") and sent when the phone is online again
//   (the `online` event, the next page load, and a timer), always with the same idempotency key, so the
//   server files exactly one case however often it is retried.
(function () {
  "use strict";

  const form = document.querySelector("form[data-filing]");
  const textsNode = document.querySelector("template[data-text]");
  if (!form || !textsNode) return;
  const T = textsNode.dataset;
  const owner = form.dataset.owner || "anon";
  const MAX_PHOTOS = parseInt(form.dataset.maxPhotos || "6", 10);
  const MAX_SIDE = 1600;
  const JPEG_QUALITY = 0.82;
  const RETRY_EVERY_MS = 30000;
  const SENT_KEPT_MS = 24 * 3600 * 1000;
  const bounds = {
    south: parseFloat(form.dataset.boundsSouth),
    north: parseFloat(form.dataset.boundsNorth),
    west: parseFloat(form.dataset.boundsWest),
    east: parseFloat(form.dataset.boundsEast),
  };
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.prototype.slice.call((root || document).querySelectorAll(selector));
  const field = (name) => form.elements.namedItem(name);

  form.classList.add("filing--js");

  // ---------------------------------------------------------------------------------------------------
  // Storage on the device: one draft per user, and the outbox of submissions.

  const DB_NAME = "xiangzhi-filing";
  const OUTBOX = "outbox";
  const DRAFTS = "drafts";
  let memory = { outbox: {}, drafts: {} }; // when IndexedDB is unavailable (some private modes)

  const dbReady = new Promise((resolve) => {
    if (!window.indexedDB) return resolve(null);
    let request;
    try {
      request = indexedDB.open(DB_NAME, 1);
    } catch (error) {
      return resolve(null);
    }
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: "key" });
      if (!db.objectStoreNames.contains(DRAFTS)) db.createObjectStore(DRAFTS, { keyPath: "owner" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });

  function store(name, mode, work) {
    return dbReady.then((db) => {
      if (!db) return work(null, memory[name === OUTBOX ? "outbox" : "drafts"]);
      return new Promise((resolve, reject) => {
        const tx = db.transaction(name, mode);
        let result;
        Promise.resolve(work(tx.objectStore(name), null)).then((value) => (result = value));
        tx.oncomplete = () => resolve(result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    });
  }

  function req(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  const outbox = {
    all() {
      return store(OUTBOX, "readonly", (os, mem) =>
        os ? req(os.getAll()) : Object.keys(mem).map((k) => mem[k])
      ).then((items) => (items || []).filter((item) => item.owner === owner));
    },
    put(item) {
      return store(OUTBOX, "readwrite", (os, mem) => (os ? req(os.put(item)) : (mem[item.key] = item)));
    },
    remove(key) {
      return store(OUTBOX, "readwrite", (os, mem) => (os ? req(os.delete(key)) : delete mem[key]));
    },
  };
  const drafts = {
    get() {
      return store(DRAFTS, "readonly", (os, mem) => (os ? req(os.get(owner)) : mem[owner]));
    },
    put(draft) {
      return store(DRAFTS, "readwrite", (os, mem) => (os ? req(os.put(draft)) : (mem[owner] = draft)));
    },
    clear() {
      return store(DRAFTS, "readwrite", (os, mem) => (os ? req(os.delete(owner)) : delete mem[owner]));
    },
  };

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.prototype.map.call(bytes, (b) => (b + 0x100).toString(16).slice(1)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // ---------------------------------------------------------------------------------------------------
  // The form's state: fields and the shrunk photos.

  let photos = []; // [{blob, name, url}]
  const keyInput = field("idempotency_key");
  const FIELDS = ["description", "latitude", "longitude", "address", "resident"];
  const RADIOS = ["category", "urgency", "privacy"];

  function radioValue(name) {
    const checked = $(`input[name="${name}"]:checked`, form);
    return checked ? checked.value : "";
  }

  function setRadio(name, value) {
    $$(`input[name="${name}"]`, form).forEach((input) => {
      input.checked = input.value === value;
    });
  }

  function gridValue() {
    const grid = field("grid");
    return grid ? grid.value : "";
  }

  function snapshot() {
    const values = {};
    FIELDS.forEach((name) => {
      const input = field(name);
      values[name] = input ? input.value : "";
    });
    RADIOS.forEach((name) => (values[name] = radioValue(name)));
    values.grid = gridValue();
    values.handle_in_grid = field("handle_in_grid") && field("handle_in_grid").checked ? "on" : "";
    values.residentLabel = residentChosenLabel;
    values.accuracy = gpsAccuracy;
    return {
      owner: owner,
      key: keyInput.value,
      fields: values,
      photos: photos.map((p) => ({ blob: p.blob, name: p.name })),
      savedAt: Date.now(),
    };
  }

  function restore(data) {
    const values = data.fields || {};
    FIELDS.forEach((name) => {
      const input = field(name);
      if (input && values[name] !== undefined) {
        if (name === "resident" && values[name] && !$(`option[value="${values[name]}"]`, input)) {
          input.add(new Option(values.residentLabel || values[name], values[name]));
        }
        input.value = values[name];
      }
    });
    RADIOS.forEach((name) => values[name] && setRadio(name, values[name]));
    const grid = field("grid");
    if (grid && grid.tagName === "SELECT" && values.grid) grid.value = values.grid;
    if (field("handle_in_grid")) field("handle_in_grid").checked = values.handle_in_grid === "on";
    if (data.key) keyInput.value = data.key;
    photos.forEach((p) => URL.revokeObjectURL(p.url));
    photos = (data.photos || []).map((p) => ({ blob: p.blob, name: p.name, url: URL.createObjectURL(p.blob) }));
    gpsAccuracy = values.accuracy || null;
    residentChosenLabel = values.residentLabel || "";
    renderPhotos();
    syncDutyTabs();
    syncGps();
    syncResident();
    updateCount();
  }

  function resetForNext() {
    form.reset();
    $$("input[name=category]", form).forEach((input) => (input.checked = false));
    ["description", "latitude", "longitude", "address"].forEach((name) => field(name) && (field(name).value = ""));
    field("resident").value = "";
    setRadio("urgency", "normal");
    setRadio("privacy", "public");
    photos.forEach((p) => URL.revokeObjectURL(p.url));
    photos = [];
    gpsAccuracy = null;
    residentChosenLabel = "";
    keyInput.value = uuid4();
    renderPhotos();
    syncDutyTabs();
    syncGps();
    syncResident();
    updateCount();
    $("[data-similar]").innerHTML = "";
    draftStatus.textContent = "";
    clearErrors();
  }

  // Save the draft shortly after the user stops typing, and at once when the page is hidden.
  let draftTimer = null;
  let draftPaused = false;
  const draftStatus = $("[data-draft-status]");

  function hasContent(values) {
    return Boolean(values.description || values.category || values.address || values.latitude || photos.length);
  }

  function saveDraft() {
    if (draftPaused) return Promise.resolve();
    clearTimeout(draftTimer);
    const data = snapshot();
    if (!hasContent(data.fields)) return drafts.clear().catch(() => {});
    return drafts
      .put(data)
      .then(() => {
        const time = new Date(data.savedAt);
        draftStatus.textContent = `${T.draftSaved} ${time.getHours()}:${String(time.getMinutes()).padStart(2, "0")}`;
      })
      .catch(() => {});
  }

  function saveDraftSoon() {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, 400);
  }

  form.addEventListener("input", saveDraftSoon);
  form.addEventListener("change", saveDraftSoon);
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && saveDraft());

  // ---------------------------------------------------------------------------------------------------
  // Category: duties first, then the chosen duty's sub-categories.

  const dutyTabs = $("[data-duty-tabs]");
  let activeDuty = "";

  function syncDutyTabs() {
    const checked = $("input[name=category]:checked", form);
    if (checked) activeDuty = checked.closest("[data-duty]").dataset.duty;
    $$("[data-duty-tab]", dutyTabs).forEach((tab) => {
      const on = tab.dataset.dutyTab === activeDuty;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.classList.toggle("is-selected", on);
    });
    $$("[data-duty]", form).forEach((group) => {
      group.hidden = group.dataset.duty !== activeDuty;
    });
  }

  if (dutyTabs) {
    dutyTabs.hidden = false;
    dutyTabs.addEventListener("click", (event) => {
      const tab = event.target.closest("[data-duty-tab]");
      if (!tab) return;
      if (activeDuty !== tab.dataset.dutyTab) {
        const checked = $("input[name=category]:checked", form);
        if (checked && checked.closest("[data-duty]").dataset.duty !== tab.dataset.dutyTab) checked.checked = false;
      }
      activeDuty = tab.dataset.dutyTab;
      syncDutyTabs();
      const group = $(`[data-duty="${activeDuty}"]`, form);
      const only = group ? $$("input[name=category]", group) : [];
      if (only.length === 1) {
        only[0].checked = true;
        refreshSimilar();
      }
    });
  }
  $$("input[name=category]", form).forEach((input) => input.addEventListener("change", refreshSimilar));
  syncDutyTabs();

  // ---------------------------------------------------------------------------------------------------
  // Description counter.

  const counter = $('[data-count-for="description"]');
  function updateCount() {
    if (counter) counter.textContent = String(field("description").value.length);
  }
  field("description").addEventListener("input", updateCount);

  // ---------------------------------------------------------------------------------------------------
  // Photos, shrunk on the device.

  const photoInput = $("[data-photo-input]");
  const photoList = $("[data-photo-list]");
  const photoButton = $("[data-photo-button]");
  photoButton.hidden = false;
  photoInput.classList.add("visually-hidden");
  $("[data-photo-note]").hidden = false;

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => decodeWithImg(file));
    }
    return decodeWithImg(file);
  }

  function decodeWithImg(file) {
    return new Promise((resolve, reject) => {
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("decode"));
      img.src = url;
    });
  }

  function shrink(file) {
    return decode(file).then((image) => {
      const width = image.width;
      const height = image.height;
      const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      const context = canvas.getContext("2d");
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) image.close();
      return new Promise((resolve) => canvas.toBlob((blob) => resolve(blob || file), "image/jpeg", JPEG_QUALITY));
    });
  }

  function renderPhotos() {
    photoList.innerHTML = "";
    photos.forEach((photo, index) => {
      const item = document.createElement("li");
      item.className = "photo-strip__item";
      const img = document.createElement("img");
      img.src = photo.url;
      img.alt = "";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "photo-strip__remove";
      remove.setAttribute("aria-label", T.remove);
      remove.textContent = "×";
      remove.addEventListener("click", () => {
        URL.revokeObjectURL(photo.url);
        photos.splice(index, 1);
        renderPhotos();
        saveDraft();
      });
      item.append(img, remove);
      photoList.append(item);
    });
    photoButton.hidden = photos.length >= MAX_PHOTOS;
  }

  photoInput.addEventListener("change", () => {
    const files = Array.prototype.slice.call(photoInput.files || []);
    photoInput.value = "";
    showError("photos", "");
    let chain = Promise.resolve();
    files.forEach((file) => {
      chain = chain.then(() => {
        if (photos.length >= MAX_PHOTOS) {
          showError("photos", T.tooMany);
          return null;
        }
        return shrink(file)
          .then((blob) => {
            photos.push({ blob: blob, name: file.name.replace(/\.[^.]*$/, "") + ".jpg", url: URL.createObjectURL(blob) });
          })
          .catch(() => {
            if (/^image\//.test(file.type)) {
              // A format this browser cannot draw (e.g. HEIC): send it as it is, the server decides.
              photos.push({ blob: file, name: file.name, url: URL.createObjectURL(file) });
            } else {
              showError("photos", T.photoBad);
            }
          });
      });
    });
    chain.then(() => {
      renderPhotos();
      saveDraft();
    });
  });

  // ---------------------------------------------------------------------------------------------------
  // Location: the GPS button; the grid is already filled in.

  const gps = $("[data-gps]");
  const gpsStatus = $("[data-gps-status]");
  const gpsClear = $("[data-gps-clear]");
  const gpsLabel = $("[data-gps-label]");
  let gpsAccuracy = null;
  gps.hidden = false;
  $$(".gps__status--server").forEach((node) => node.remove());

  function inCounty(lat, lng) {
    return lat >= bounds.south && lat <= bounds.north && lng >= bounds.west && lng <= bounds.east;
  }

  function syncGps() {
    const lat = field("latitude").value;
    const lng = field("longitude").value;
    if (lat && lng) {
      let text = `${T.located}：${Number(lat).toFixed(5)}, ${Number(lng).toFixed(5)}`;
      if (gpsAccuracy) text += `（${T.accuracy} ${Math.round(gpsAccuracy)} ${T.metres}）`;
      gpsStatus.textContent = text;
      gpsClear.hidden = false;
      gpsLabel.textContent = T.retry;
    } else {
      gpsStatus.textContent = "";
      gpsClear.hidden = true;
    }
  }

  $("[data-gps-button]").addEventListener("click", () => {
    showError("location", "");
    if (!navigator.geolocation) {
      showError("location", T.gpsNone);
      return;
    }
    gpsStatus.textContent = T.locating;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const lat = position.coords.latitude;
        const lng = position.coords.longitude;
        if (!inCounty(lat, lng)) {
          gpsStatus.textContent = "";
          showError("location", T.outside);
          return;
        }
        field("latitude").value = lat.toFixed(6);
        field("longitude").value = lng.toFixed(6);
        gpsAccuracy = position.coords.accuracy || null;
        syncGps();
        saveDraft();
        refreshSimilar();
      },
      () => {
        gpsStatus.textContent = "";
        showError("location", T.gpsDenied);
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }
    );
  });

  gpsClear.addEventListener("click", () => {
    field("latitude").value = "";
    field("longitude").value = "";
    gpsAccuracy = null;
    showError("location", "");
    syncGps();
    saveDraft();
    refreshSimilar();
  });
  const gridSelect = field("grid");
  if (gridSelect && gridSelect.tagName === "SELECT") gridSelect.addEventListener("change", refreshSimilar);

  // ---------------------------------------------------------------------------------------------------
  // The resident it is filed for: search by name or household number, or "本人发现".

  const residentSelect = $("[data-resident-select]");
  const residentBox = $("[data-resident-search]");
  const residentQuery = $("[data-resident-query]");
  const residentResults = $("[data-resident-results]");
  const residentChosen = $("[data-resident-chosen]");
  const residentSelf = $("[data-resident-self]");
  const listed = form.dataset.residentOptions === "1";
  let residentChosenLabel = "";
  residentBox.hidden = false;
  residentSelect.classList.add("visually-hidden");
  residentSelect.tabIndex = -1;
  residentSelect.setAttribute("aria-hidden", "true");

  function syncResident() {
    const value = residentSelect.value;
    if (value) {
      const option = $(`option[value="${value}"]`, residentSelect);
      residentChosenLabel = residentChosenLabel || (option ? option.textContent : "");
      residentChosen.textContent = T.chosen + residentChosenLabel;
    } else {
      residentChosenLabel = "";
      residentChosen.textContent = T.chosen + T.self;
    }
    residentSelf.classList.toggle("is-selected", !value);
    residentSelf.setAttribute("aria-pressed", value ? "false" : "true");
  }

  function choose(id, label) {
    if (id && !$(`option[value="${id}"]`, residentSelect)) residentSelect.add(new Option(label, id));
    residentSelect.value = id;
    residentChosenLabel = id ? label : "";
    residentResults.innerHTML = "";
    residentQuery.value = "";
    syncResident();
    saveDraft();
  }

  function showMatches(rows) {
    residentResults.innerHTML = "";
    if (!rows.length) {
      const empty = document.createElement("li");
      empty.className = "muted resident-search__empty";
      empty.textContent = T.noMatch;
      residentResults.append(empty);
      return;
    }
    rows.slice(0, 8).forEach((row) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "resident-search__pick";
      button.textContent = row.label;
      button.addEventListener("click", () => choose(String(row.id), row.label));
      item.append(button);
      residentResults.append(item);
    });
  }

  let searchTimer = null;
  residentQuery.addEventListener("input", () => {
    const query = residentQuery.value.trim();
    clearTimeout(searchTimer);
    if (!query) {
      residentResults.innerHTML = "";
      return;
    }
    if (listed) {
      const rows = $$("option", residentSelect)
        .filter((option) => option.value && option.textContent.indexOf(query) !== -1)
        .map((option) => ({ id: option.value, label: option.textContent }));
      showMatches(rows);
      return;
    }
    searchTimer = setTimeout(() => {
      const params = new URLSearchParams({ q: query, grid: gridValue() });
      fetch(`${form.dataset.residentsUrl}?${params}`, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : { results: [] }))
        .then((data) => showMatches(data.results || []))
        .catch(() => {});
    }, 250);
  });
  residentSelf.addEventListener("click", () => choose("", ""));

  // ---------------------------------------------------------------------------------------------------
  // Similar open cases, and "我也遇到".

  const similar = $("[data-similar]");
  let similarSeq = 0;

  function refreshSimilar() {
    const category = radioValue("category");
    const grid = gridValue();
    if (!category || !grid || !navigator.onLine) return;
    const params = new URLSearchParams({ category: category, grid: grid });
    if (field("latitude").value && field("longitude").value) {
      params.set("latitude", field("latitude").value);
      params.set("longitude", field("longitude").value);
    }
    const seq = ++similarSeq;
    fetch(`${form.dataset.similarUrl}?${params}`, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => (response.ok ? response.text() : ""))
      .then((html) => {
        if (seq === similarSeq) similar.innerHTML = html;
      })
      .catch(() => {});
  }

  similar.addEventListener("click", (event) => {
    const button = event.target.closest("[data-me-too]");
    if (!button) return;
    event.preventDefault();
    button.disabled = true;
    const body = new FormData();
    body.append("csrfmiddlewaretoken", csrfToken());
    body.append("resident", residentSelect.value || "");
    fetch(button.dataset.meToo, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data: data })))
      .then((result) => {
        const item = button.closest("[data-case]");
        const note = document.createElement("p");
        note.className = result.ok ? "similar__done" : "field__error";
        note.setAttribute("role", "status");
        note.textContent = result.data.detail || "";
        item.querySelector(".similar__body").append(note);
        if (result.ok) {
          button.textContent = T.meTooDone;
        } else {
          button.disabled = false;
        }
      })
      .catch(() => {
        button.disabled = false;
      });
  });

  // ---------------------------------------------------------------------------------------------------
  // Errors next to the fields.

  const formError = $("[data-form-error]");

  function showError(name, message) {
    const node = $(`[data-error-for="${name}"]`, form);
    const box = $(`[data-field="${name}"]`, form);
    if (node) {
      node.textContent = message || "";
      node.hidden = !message;
    }
    if (box) box.classList.toggle("field--invalid", Boolean(message));
    if (!node && message) {
      formError.textContent = message;
      formError.hidden = false;
    }
  }

  function clearErrors() {
    $$("[data-error-for]", form).forEach((node) => {
      node.textContent = "";
      node.hidden = true;
    });
    // The server-rendered errors of a previous POST.
    $$(".field__error:not([data-error-for])", form).forEach((node) => node.remove());
    $$(".field--invalid", form).forEach((node) => node.classList.remove("field--invalid"));
    $$(".form-error:not([data-form-error])", form).forEach((node) => node.remove());
    formError.hidden = true;
    formError.textContent = "";
  }

  function showErrors(errors) {
    clearErrors();
    const map = { latitude: "location", longitude: "location", idempotency_key: "__all__", __all__: "__all__" };
    let first = null;
    Object.keys(errors || {}).forEach((name) => {
      const target = map[name] || name;
      const message = (errors[name] || []).join(" ");
      if (target === "__all__" || !$(`[data-error-for="${target}"]`, form)) {
        formError.textContent = message;
        formError.hidden = false;
        first = first || formError;
      } else {
        showError(target, message);
        first = first || $(`[data-field="${target}"]`, form);
      }
    });
    if (first) first.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  // ---------------------------------------------------------------------------------------------------
  // Sending, and the outbox of submissions waiting for the network.

  const submitButton = $("[data-submit]");
  const submitStatus = $("[data-submit-status]");
  const outboxBox = $("[data-outbox]");
  const outboxList = $("[data-outbox-list]");
  let flushing = false;

  function csrfToken() {
    const input = $("input[name=csrfmiddlewaretoken]", form);
    return input ? input.value : "";
  }

  function body(item) {
    const data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken());
    data.append("idempotency_key", item.key);
    Object.keys(item.fields).forEach((name) => {
      if (name === "residentLabel" || name === "accuracy") return;
      const value = item.fields[name];
      if (name === "handle_in_grid" && !value) return;
      data.append(name, value == null ? "" : value);
    });
    item.photos.forEach((photo, index) => data.append("photos", photo.blob, photo.name || `photo-${index + 1}.jpg`));
    return data;
  }

  // Resolves to {kind: "sent"|"invalid"|"auth"|"retry"|"offline", ...}; never rejects.
  function send(item) {
    return fetch(form.getAttribute("action") || window.location.pathname, {
      method: "POST",
      body: body(item),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    })
      .then((response) => {
        const type = response.headers.get("Content-Type") || "";
        if (response.status === 401 || response.status === 403 || response.redirected) return { kind: "auth" };
        if (!type.includes("application/json")) return { kind: "retry" };
        return response.json().then((data) => {
          if (response.ok && data.ok) return { kind: "sent", number: data.number, url: data.url };
          if (response.status >= 500) return { kind: "retry" };
          if (response.status === 404) return { kind: "invalid", errors: { __all__: [data.detail || ""] } };
          return { kind: "invalid", errors: data.errors || { __all__: [data.detail || ""] } };
        });
      })
      .catch(() => ({ kind: "offline" }));
  }

  function summary(item) {
    const text = (item.fields.description || "").trim();
    return text ? (text.length > 24 ? `${text.slice(0, 24)}…` : text) : T.untitled;
  }

  function renderOutbox() {
    return outbox.all().then((items) => {
      const now = Date.now();
      items = items.filter((item) => item.status !== "sent" || now - (item.sentAt || 0) < SENT_KEPT_MS);
      items.sort((a, b) => b.createdAt - a.createdAt);
      outboxList.innerHTML = "";
      items.forEach((item) => {
        const row = document.createElement("li");
        row.className = `outbox__item outbox__item--${item.status}`;
        row.dataset.status = item.status;
        row.dataset.testid = "outbox-item";
        const badge = document.createElement("span");
        badge.className = "outbox__badge";
        badge.textContent = { pending: T.pending, sending: T.sending, sent: T.sent, failed: T.failed }[item.status] || "";
        const text = document.createElement("span");
        text.className = "outbox__text";
        text.textContent = summary(item);
        row.append(badge, text);
        if (item.status === "sent" && item.number) {
          const link = document.createElement("a");
          link.href = item.url;
          link.className = "outbox__link";
          link.textContent = `${item.number} · ${T.view}`;
          row.append(link);
        }
        if (item.status === "failed") {
          const edit = document.createElement("button");
          edit.type = "button";
          edit.className = "btn btn--ghost outbox__edit";
          edit.textContent = T.failed;
          edit.addEventListener("click", () => {
            outbox.remove(item.key).then(() => {
              restore(item);
              showErrors(item.errors || {});
              saveDraft();
              renderOutbox();
            });
          });
          row.append(edit);
        }
        outboxList.append(row);
      });
      outboxBox.hidden = items.length === 0;
      return items;
    });
  }

  function say(message, tone) {
    submitStatus.textContent = message;
    submitStatus.className = `submit-bar__status${tone ? ` submit-bar__status--${tone}` : ""}`;
  }

  function sayQueued() {
    say(T.queued, "pending");
  }

  // Send every waiting submission once; one pass at a time.
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    let authProblem = false;
    return outbox
      .all()
      .then((items) => {
        const waiting = items.filter((item) => item.status === "pending").sort((a, b) => a.createdAt - b.createdAt);
        let chain = Promise.resolve();
        waiting.forEach((item) => {
          chain = chain.then(() =>
            send(item).then((result) => {
              if (result.kind === "sent") {
                item.status = "sent";
                item.number = result.number;
                item.url = result.url;
                item.sentAt = Date.now();
                item.photos = []; // sent: the device need not keep the photos
                say(`${T.submitted} ${result.number}`, "ok");
                return outbox.put(item);
              }
              if (result.kind === "invalid") {
                item.status = "failed";
                item.errors = result.errors;
                return outbox.put(item);
              }
              if (result.kind === "auth") authProblem = true;
              return null;
            })
          );
        });
        return chain;
      })
      .catch(() => {})
      .then(() => {
        flushing = false;
        if (authProblem) say(T.relogin, "pending");
        return renderOutbox();
      });
  }

  function queue(item) {
    item.status = "pending";
    item.createdAt = Date.now();
    return outbox.put(item).then(() => {
      draftPaused = true;
      return drafts.clear().then(() => {
        resetForNext();
        draftPaused = false;
        sayQueued();
        return renderOutbox();
      });
    });
  }

  form.addEventListener("submit", (event) => {
    // A "我也遇到" button submits the form to its own address without the script; here it is handled above.
    if (event.submitter && event.submitter.hasAttribute("data-me-too")) {
      event.preventDefault();
      return;
    }
    event.preventDefault();
    if (submitButton.disabled) return;
    const item = snapshot();
    clearErrors();
    if (!navigator.onLine) {
      queue(item);
      return;
    }
    submitButton.disabled = true;
    say(T.sending, "");
    send(item).then((result) => {
      submitButton.disabled = false;
      if (result.kind === "sent") {
        draftPaused = true;
        item.status = "sent";
        item.number = result.number;
        item.url = result.url;
        item.createdAt = Date.now();
        item.sentAt = Date.now();
        item.photos = [];
        outbox
          .put(item)
          .then(() => drafts.clear())
          .then(() => {
            resetForNext();
            draftPaused = false;
            say(`${T.submitted} ${result.number}`, "ok");
            window.scrollTo({ top: 0, behavior: "smooth" });
            return renderOutbox();
          });
        return;
      }
      if (result.kind === "invalid") {
        say(T.fix, "error");
        showErrors(result.errors);
        return;
      }
      // No network, a server in trouble or an expired login: keep it on the device and retry later.
      queue(item).then(() => {
        if (result.kind === "auth") say(T.relogin, "pending");
        else if (result.kind === "retry") say(T.serverError, "pending");
      });
    });
  });

  window.addEventListener("online", () => {
    flush();
    refreshSimilar();
  });
  setInterval(() => navigator.onLine && flush(), RETRY_EVERY_MS);

  // ---------------------------------------------------------------------------------------------------
  // Start: restore the draft (unless the server just re-rendered the form with errors), show the outbox,
  // and send what is waiting.

  const bound = form.dataset.bound === "1";
  drafts
    .get()
    .then((draft) => {
      if (draft && !bound && hasContent(draft.fields || {})) {
        restore(draft);
        say(T.draftRestored, "");
      } else {
        syncGps();
        syncResident();
        updateCount();
      }
    })
    .catch(() => {})
    .then(() => renderOutbox())
    .then(() => navigator.onLine && flush())
    .then(() => refreshSimilar());
})();
