// Pipewise web app: board drag and drop (SortableJS), keyboard moves, and small helpers.
// Every page works without this script; it only makes moving deals quicker.
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var toast = document.getElementById("toast");
  var toastTimer = null;

  function showToast(message, isError) {
    if (!toast) return;
    toast.textContent = message;
    toast.className = "toast" + (isError ? " error" : "");
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, isError ? 8000 : 3500);
  }

  // Copy buttons: <button data-copy="element-id">.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (source && navigator.clipboard) navigator.clipboard.writeText(source.textContent.trim());
    });
  });

  // A select that shows one part of its section: <select data-sets="curve"> keeps the
  // section's data-curve in step, and the style sheet shows the matching fields only.
  document.querySelectorAll("select[data-sets]").forEach(function (select) {
    select.addEventListener("change", function () {
      var section = select.closest("[data-" + select.getAttribute("data-sets") + "]");
      if (section) section.setAttribute("data-" + select.getAttribute("data-sets"), select.value);
    });
  });

  // Forms that undo something ask first: <form data-confirm="question">.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // Type-ahead pickers: <input data-picker="/pick/accounts" data-picker-for="select-id"> fills
  // the select with the matches of what is typed (the select keeps "none" and the one chosen),
  // and chooses the first match. Without this script the select offers only the one chosen.
  document.querySelectorAll("input[data-picker]").forEach(function (input) {
    var select = document.getElementById(input.getAttribute("data-picker-for"));
    if (!select) return;
    input.hidden = false;
    var timer = null;
    var asked = 0;
    // A select with <optgroup data-picker-results> keeps its other groups and fills that one.
    var target = select.querySelector("optgroup[data-picker-results]") || select;
    function fill(items) {
      var keep = Array.prototype.filter.call(target.querySelectorAll("option"), function (option) {
        return option.value === "" || option.selected;
      });
      target.textContent = "";
      keep.forEach(function (option) { target.appendChild(option); });
      var have = {};
      keep.forEach(function (option) { have[option.value] = true; });
      items.forEach(function (item) {
        if (have[item.value]) return;
        var option = document.createElement("option");
        option.value = item.value;
        option.textContent = item.label;
        target.appendChild(option);
      });
      if (items.length) select.value = items[0].value;
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var typed = input.value.trim();
      if (!typed) return;
      timer = setTimeout(function () {
        var ticket = ++asked;
        var source = input.getAttribute("data-picker");
        fetch(source + (source.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(typed), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { items: [] }; })
          .then(function (body) { if (ticket === asked) fill(body.items || []); })
          .catch(function () {});
      }, 150);
    });
    // Enter in the search box must not submit a list's filters before the select is filled.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && input.form && input.form.method.toLowerCase() === "post") event.preventDefault();
    });
  });

  // Tabs: <nav data-tabs> with links to panels; without this script every panel shows.
  document.querySelectorAll("[data-tabs]").forEach(function (nav) {
    var tabs = Array.prototype.slice.call(nav.querySelectorAll("[data-tab]"));
    var root = nav.parentElement;
    function select(key, focus) {
      tabs.forEach(function (tab) {
        var on = tab.getAttribute("data-tab") === key;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        var panel = root.querySelector('[data-panel="' + tab.getAttribute("data-tab") + '"]');
        if (panel) panel.hidden = !on;
        if (on && focus) tab.focus();
      });
    }
    var fromHash = tabs.filter(function (tab) { return location.hash === "#ws-panel-" + tab.getAttribute("data-tab"); })[0];
    var current = fromHash || tabs.filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0] || tabs[0];
    if (current) select(current.getAttribute("data-tab"), false);
    nav.addEventListener("click", function (event) {
      var tab = event.target.closest("[data-tab]");
      if (!tab) return;
      event.preventDefault();
      select(tab.getAttribute("data-tab"), true);
      if (history.replaceState) history.replaceState(null, "", "#ws-panel-" + tab.getAttribute("data-tab"));
    });
    window.addEventListener("hashchange", function () {
      var tab = tabs.filter(function (tab) { return location.hash === "#ws-panel-" + tab.getAttribute("data-tab"); })[0];
      if (tab) select(tab.getAttribute("data-tab"), false);
    });
    nav.addEventListener("keydown", function (event) {
      var index = tabs.indexOf(document.activeElement);
      if (index < 0) return;
      var next = event.key === "ArrowRight" ? index + 1 : event.key === "ArrowLeft" ? index - 1 : null;
      if (next === null) return;
      event.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length].getAttribute("data-tab"), true);
    });
  });

  // Imports (/admin/import): the chosen file is sent with each step and the choices so far;
  // the server answers a fragment (mapping, then the check's or the import's report).
  var importForm = document.querySelector("[data-import]");
  if (importForm) {
    var result = document.getElementById("import-result");
    var busy = document.getElementById("import-busy");
    var running = false;
    var runStep = function (step) {
      var file = importForm.querySelector("input[type=file]").files[0];
      if (!file || running) { if (!file) importForm.querySelector("input[type=file]").reportValidity(); return; }
      var params = new URLSearchParams();
      params.set("step", step);
      params.set("kind", importForm.querySelector("[name=kind]").value);
      if (importForm.querySelector("[name=day_first]").checked) params.set("day_first", "1");
      var mapping = result.querySelector("#import-mapping");
      if (mapping && mapping.getAttribute("data-kind") === params.get("kind")) {
        var columns = Array.prototype.map.call(mapping.querySelectorAll("select[name=column]"), function (select) { return select.value; });
        params.set("columns", columns.join(","));
        mapping.querySelectorAll("select[name=stage_to]").forEach(function (select) {
          params.append("stage_from", select.getAttribute("data-from"));
          params.append("stage_to", select.value);
        });
        ["pipeline", "default_owner", "default_loss_reason", "historical"].forEach(function (name) {
          var field = mapping.querySelector("[name=" + name + "]");
          if (field && field.value.trim()) params.set(name, field.value.trim());
        });
      }
      running = true;
      busy.hidden = false;
      fetch("/admin/import/run?" + params.toString(), {
        method: "POST",
        headers: { "X-CSRF-Token": csrf, "Content-Type": "text/csv" },
        credentials: "same-origin",
        body: file
      }).then(function (response) {
        return response.text();
      }).then(function (html) {
        result.innerHTML = html;
        var report = result.querySelector("#import-report") || result.querySelector("#import-mapping");
        if (report && step !== "preview") report.scrollIntoView({ block: "start" });
      }).catch(function () {
        showToast(importForm.getAttribute("data-failed") || "The request failed.", true);
      }).then(function () {
        running = false;
        busy.hidden = true;
      });
    };
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-step]");
      if (button && (importForm.contains(button) || result.contains(button))) runStep(button.getAttribute("data-step"));
    });
    result.addEventListener("change", function (event) {
      if (event.target.hasAttribute("data-repreview")) runStep("preview");
    });
    importForm.querySelector("[name=kind]").addEventListener("change", function () { result.innerHTML = ""; });
  }

  // Capture (/capture): each chosen file is sent on its own (check or log), and each answer,
  // a fragment with its summary and refusals, is shown in file order as it comes.
  var captureForm = document.querySelector("[data-capture]");
  if (captureForm) {
    var captureResult = document.getElementById("capture-result");
    var captureBusy = document.getElementById("capture-busy");
    var capturing = false;
    var capture = function (step) {
      var input = captureForm.querySelector("input[type=file]");
      var files = Array.prototype.slice.call(input.files);
      if (!files.length || capturing) { if (!files.length) input.reportValidity(); return; }
      capturing = true;
      captureBusy.hidden = false;
      captureResult.innerHTML = "";
      var keep = captureForm.querySelector("[name=keep_unmatched]").checked;
      var next = function (index) {
        if (index >= files.length) { capturing = false; captureBusy.hidden = true; return; }
        var params = new URLSearchParams();
        params.set("step", step);
        params.set("name", files[index].name);
        if (keep) params.set("keep_unmatched", "1");
        fetch("/capture/run?" + params.toString(), {
          method: "POST",
          headers: { "X-CSRF-Token": csrf, "Content-Type": "application/octet-stream" },
          credentials: "same-origin",
          body: files[index]
        }).then(function (response) {
          return response.text();
        }).then(function (html) {
          captureResult.insertAdjacentHTML("beforeend", html);
        }).catch(function () {
          showToast(captureForm.getAttribute("data-failed") || "The request failed.", true);
        }).then(function () { next(index + 1); });
      };
      next(0);
    };
    captureForm.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-capture-step]");
      if (button) capture(button.getAttribute("data-capture-step"));
    });
  }

  var board = document.getElementById("board");
  if (!board) return;

  var dialog = document.getElementById("reason-dialog");
  var reasonInput = document.getElementById("reason-input");
  var reasonLabel = document.getElementById("reason-label");

  function listFor(stageId) {
    return board.querySelector('ol.cards[data-stage-id="' + stageId + '"]');
  }

  var lossItem = document.getElementById("loss-item");
  var lossAdd = document.getElementById("loss-item-add");
  var lossEn = document.getElementById("loss-item-en");
  var lossKo = document.getElementById("loss-item-ko");

  // Asks for a close reason when moving into a lost stage, and, for those who may, offers to
  // add a checklist item to the gate of the stage the deal leaves. Resolves to null when
  // cancelled, else to the extra fields to post.
  function askReason(kind, card) {
    return new Promise(function (resolve) {
      if (kind !== "lost" || !dialog || typeof dialog.showModal !== "function") {
        resolve({});
        return;
      }
      reasonLabel.textContent = reasonLabel.getAttribute("data-" + kind);
      reasonInput.value = "";
      var canGrow = card.getAttribute("data-can-grow") === "1";
      if (lossItem) {
        lossItem.hidden = !canGrow;
        lossAdd.checked = false;
        lossEn.value = "";
        lossKo.value = "";
        document.getElementById("loss-item-prompt").textContent =
          lossItem.getAttribute("data-prompt").replace("{stage}", card.getAttribute("data-stage-name") || "");
      }
      dialog.returnValue = "";
      dialog.showModal();
      reasonInput.focus();
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        var reason = reasonInput.value.trim();
        if (dialog.returnValue !== "ok" || !reason) { resolve(null); return; }
        var extra = { close_reason: reason };
        if (canGrow && lossAdd.checked && lossEn.value.trim()) {
          extra.add_criterion = "1";
          extra.criterion_label_en = lossEn.value.trim();
          extra.criterion_label_ko = lossKo.value.trim();
        }
        resolve(extra);
      });
    });
  }

  var gateDialog = document.getElementById("gate-dialog");

  // Shows what a refused move is missing, grouped by stage. For those who may override, asks
  // for the reason; resolves to it, or to null when the dialog is closed.
  function showGate(gate) {
    return new Promise(function (resolve) {
      if (!gateDialog || typeof gateDialog.showModal !== "function") { resolve(null); return; }
      document.getElementById("gate-heading").textContent = gate.heading;
      var list = document.getElementById("gate-list");
      list.textContent = "";
      (gate.stages || []).forEach(function (stage) {
        var heading = document.createElement("h3");
        heading.className = "refusal-stage";
        heading.textContent = stage.stage;
        list.appendChild(heading);
        var items = document.createElement("ul");
        items.className = "refusal-items";
        stage.items.forEach(function (item) {
          var li = document.createElement("li");
          var label = document.createElement("span");
          label.className = "refusal-label";
          label.textContent = item.label;
          var reason = document.createElement("span");
          reason.className = "refusal-reason";
          reason.textContent = item.reason;
          li.appendChild(label);
          li.appendChild(document.createTextNode(" "));
          li.appendChild(reason);
          items.appendChild(li);
        });
        list.appendChild(items);
      });
      var overrideBox = document.getElementById("gate-override");
      var overrideOk = document.getElementById("gate-override-ok");
      var reasonBox = document.getElementById("gate-reason");
      var reasonError = document.getElementById("gate-reason-error");
      overrideBox.hidden = !gate.can_override;
      overrideOk.hidden = !gate.can_override;
      document.getElementById("gate-rep-hint").hidden = !!gate.can_override;
      reasonBox.value = "";
      reasonError.hidden = true;
      gateDialog.returnValue = "";
      function onSubmit(event) {
        if (event.submitter === overrideOk && !reasonBox.value.trim()) {
          event.preventDefault();
          reasonError.hidden = false;
          reasonBox.setAttribute("aria-invalid", "true");
          reasonBox.focus();
        }
      }
      gateDialog.querySelector("form").addEventListener("submit", onSubmit);
      gateDialog.showModal();
      (gate.can_override ? reasonBox : document.getElementById("gate-close")).focus();
      gateDialog.addEventListener("close", function onClose() {
        gateDialog.removeEventListener("close", onClose);
        gateDialog.querySelector("form").removeEventListener("submit", onSubmit);
        var reason = reasonBox.value.trim();
        resolve(gateDialog.returnValue === "override" && reason ? reason : null);
      });
    });
  }

  function updateColumns(columns) {
    (columns || []).forEach(function (column) {
      var head = board.querySelector('.column-head[data-stage-id="' + column.stage_id + '"]');
      if (!head) return;
      head.querySelector(".column-count").textContent = column.count_text;
      var total = head.querySelector(".column-total");
      total.textContent = column.total;
      total.title = column.total_exact;
    });
  }

  // Moves `card` to `stageId` on the server. `undo` puts it back where it was. A move refused
  // at a gate snaps back and shows what is missing; an override moves it again.
  function move(card, stageId, undo) {
    var list = listFor(stageId);
    var kind = list ? list.getAttribute("data-kind") : "open";
    return askReason(kind, card).then(function (extra) {
      if (extra === null) { undo(); return; }
      return post(card, stageId, kind, extra, undo);
    });
  }

  function post(card, stageId, kind, extra, undo) {
    {
      var body = new URLSearchParams();
      body.set("stage_id", stageId);
      Object.keys(extra).forEach(function (key) { body.set(key, extra[key]); });
      body.set("owner", board.getAttribute("data-owner") || "");
      card.classList.add("is-saving");
      return fetch(card.getAttribute("data-move-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: body
      }).then(function (response) {
        return response.json().catch(function () { return { ok: false, message: response.statusText }; });
      }).then(function (answer) {
        card.classList.remove("is-saving");
        if (!answer.ok) {
          undo();
          if (answer.gate) {
            return showGate(answer.gate).then(function (reason) {
              if (reason === null) { card.focus(); return; }
              var target = listFor(stageId);
              var from = card.parentElement;
              var next = card.nextElementSibling;
              if (target) target.insertBefore(card, target.firstElementChild);
              var again = {};
              Object.keys(extra).forEach(function (key) { again[key] = extra[key]; });
              again.override_reason = reason;
              return post(card, stageId, kind, again, function () { from.insertBefore(card, next); });
            });
          }
          showToast(board.getAttribute("data-msg-failed") + ": " + answer.message, true);
          return;
        }
        card.setAttribute("data-stage-id", String(answer.stage_id));
        if (answer.stage_name) card.setAttribute("data-stage-name", answer.stage_name);
        var select = card.querySelector("select[name=stage_id]");
        if (select) select.value = String(answer.stage_id);
        refreshNeighbours(card);
        if (kind !== "open") card.classList.add("compact");
        else card.classList.remove("compact");
        updateColumns(answer.columns);
        showToast(answer.message, false);
      }, function () {
        card.classList.remove("is-saving");
        undo();
        showToast(board.getAttribute("data-msg-network"), true);
      });
    }
  }

  var openStages = Array.prototype.map.call(board.querySelectorAll('ol.cards[data-kind="open"]'), function (list) {
    return list.getAttribute("data-stage-id");
  });

  function refreshNeighbours(card) {
    var index = openStages.indexOf(card.getAttribute("data-stage-id"));
    card.setAttribute("data-previous", index > 0 ? openStages[index - 1] : "");
    card.setAttribute("data-next", index >= 0 && index + 1 < openStages.length ? openStages[index + 1] : "");
  }

  // Moves the card in the page first, then on the server; undoes on failure.
  function moveByHand(card, stageId) {
    var target = listFor(stageId);
    var from = card.parentElement;
    var next = card.nextElementSibling;
    if (!target || target === from) return;
    target.insertBefore(card, target.firstElementChild);
    card.focus();
    move(card, stageId, function () {
      from.insertBefore(card, next);
      card.focus();
    });
  }

  // Drag and drop.
  if (window.Sortable) {
    board.querySelectorAll("ol.cards").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board",
        animation: 120,
        filter: "select, button, input, [data-movable='']",
        preventOnFilter: false,
        draggable: ".deal-card",
        ghostClass: "is-ghost",
        onEnd: function (event) {
          if (event.from === event.to) return;
          var card = event.item;
          var from = event.from;
          var oldIndex = event.oldIndex;
          move(card, event.to.getAttribute("data-stage-id"), function () {
            from.insertBefore(card, from.children[oldIndex] || null);
          });
        }
      });
    });
  }

  // Keyboard: Shift+ArrowRight / Shift+ArrowLeft on a focused card.
  board.addEventListener("keydown", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card");
    if (!card || event.target !== card || !event.shiftKey) return;
    if (!card.getAttribute("data-movable")) return;
    var target = event.key === "ArrowRight" ? card.getAttribute("data-next") : event.key === "ArrowLeft" ? card.getAttribute("data-previous") : null;
    if (!target) return;
    event.preventDefault();
    moveByHand(card, target);
  });

  // Move… on a card opens the board's one Move menu inside it (without this script the link
  // opens the deal's move page).
  board.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".move-link");
    var template = document.getElementById("move-menu");
    if (!link || !template) return;
    var card = link.closest(".deal-card");
    if (!card) return;
    event.preventDefault();
    var form = template.content.firstElementChild.cloneNode(true);
    form.action = link.getAttribute("href");
    var select = form.querySelector("select[name=stage_id]");
    select.id = "move-" + card.getAttribute("data-id");
    form.querySelector("label").htmlFor = select.id;
    select.value = card.getAttribute("data-stage-id");
    link.replaceWith(form);
    select.focus();
  });

  // The Move menu on each card: handled here without leaving the page.
  board.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("move-form")) return;
    event.preventDefault();
    var card = form.closest(".deal-card");
    var stageId = form.querySelector("select[name=stage_id]").value;
    if (stageId === card.getAttribute("data-stage-id")) return;
    moveByHand(card, stageId);
  });
})();
