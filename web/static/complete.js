// Completions under the search box as a query is typed, from /api/complete.
//
// The ARIA 1.2 combobox pattern: the text box is the combobox, the completions a listbox it
// controls; arrow keys move through them (the focus stays in the box, aria-activedescendant names
// the option), Enter searches for the chosen one, Escape closes the list. Without this script the
// search box is a plain form, so the attributes are only added here.
(function () {
  "use strict";

  // Milliseconds of quiet before asking: a request per pause in typing, not per key.
  var DELAY = 150;

  var input = document.getElementById("q");
  var form = input && input.form;
  if (!form || !form.dataset.complete || !window.fetch) {
    return;
  }

  var list = document.createElement("ul");
  list.id = "q-completions";
  list.className = "completions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Gợi ý tìm kiếm");
  list.hidden = true;
  form.appendChild(list);

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");

  var options = [];
  var active = -1;
  var timer = null;
  var pending = null;

  function ask() {
    var text = input.value;
    if (!text.trim()) {
      close();
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    fetch(form.dataset.complete + "?q=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
      signal: pending.signal,
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        // An answer to what the box no longer holds is dropped.
        if (data && data.query === input.value && document.activeElement === input) {
          list.dataset.query = data.query; // what the list completes, for whoever reads the page
          show(data.completions);
        } else if (!data) {
          close();
        }
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          close();
        }
      });
  }

  function show(completions) {
    list.replaceChildren();
    options = completions.map(function (text, i) {
      var option = document.createElement("li");
      option.id = "q-completion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = text;
      // mousedown, not click: the box keeps its focus, so the list is not closed first.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(i);
      });
      list.appendChild(option);
      return option;
    });
    select(-1);
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", String(options.length > 0));
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    select(-1);
    input.setAttribute("aria-expanded", "false");
  }

  function select(index) {
    if (active >= 0 && options[active]) {
      options[active].setAttribute("aria-selected", "false");
    }
    active = index;
    if (active >= 0) {
      options[active].setAttribute("aria-selected", "true");
      options[active].scrollIntoView({ block: "nearest" });
      input.setAttribute("aria-activedescendant", options[active].id);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(index) {
    input.value = options[index].textContent;
    close();
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY);
  });

  input.addEventListener("keydown", function (event) {
    var open = !list.hidden && options.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) {
        if (event.key === "ArrowDown") {
          ask();
          event.preventDefault();
        }
        return;
      }
      event.preventDefault();
      // Past the last option (or before the first) the text box itself is current again.
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = active + step;
      select(next < -1 ? options.length - 1 : next >= options.length ? -1 : next);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      clearTimeout(timer);
      close();
    }
  });

  input.addEventListener("blur", function () {
    clearTimeout(timer);
    close();
  });
})();
