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

  var board = document.getElementById("board");
  if (!board) return;

  var dialog = document.getElementById("reason-dialog");
  var reasonInput = document.getElementById("reason-input");
  var reasonLabel = document.getElementById("reason-label");

  function listFor(stageId) {
    return board.querySelector('ol.cards[data-stage-id="' + stageId + '"]');
  }

  // Asks for a close reason when moving into a lost stage; resolves to null when cancelled.
  function askReason(kind) {
    return new Promise(function (resolve) {
      if (kind !== "lost" || !dialog || typeof dialog.showModal !== "function") {
        resolve("");
        return;
      }
      reasonLabel.textContent = reasonLabel.getAttribute("data-" + kind);
      reasonInput.value = "";
      dialog.returnValue = "";
      dialog.showModal();
      reasonInput.focus();
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        var reason = reasonInput.value.trim();
        resolve(dialog.returnValue === "ok" && reason ? reason : null);
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

  // Moves `card` to `stageId` on the server. `undo` puts it back where it was.
  function move(card, stageId, undo) {
    var list = listFor(stageId);
    var kind = list ? list.getAttribute("data-kind") : "open";
    return askReason(kind).then(function (reason) {
      if (reason === null) { undo(); return; }
      var body = new URLSearchParams();
      body.set("stage_id", stageId);
      if (reason) body.set("close_reason", reason);
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
          showToast(board.getAttribute("data-msg-failed") + ": " + answer.message, true);
          return;
        }
        card.setAttribute("data-stage-id", String(answer.stage_id));
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
    });
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
