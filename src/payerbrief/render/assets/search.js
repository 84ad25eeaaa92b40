/* Search the codes of this site by code or words, in the browser.
 *
 * The index is a script (search-index.js) that sets window.PAYERBRIEF_INDEX,
 * so the search works from a web server and from pages opened from disk.
 * The rules are those of payerbrief/site/search.py: an exact code first, then
 * codes that start with the query, then codes whose title or descriptor holds
 * every word of the query; ties in code order.
 */
(function () {
  "use strict";

  var LIMIT = 50;
  var data = window.PAYERBRIEF_INDEX;
  var input = document.getElementById("q");
  var results = document.getElementById("results");
  var status = document.getElementById("search-status");
  if (!data || !input || !results || !status) {
    return;
  }
  var root = document.body.getAttribute("data-root") || "";
  var entries = data.codes.map(function (row) {
    return {
      code: row[0],
      title: row[1],
      haystack: (row[0] + " " + row[1] + " " + row[2]).toLowerCase()
    };
  });

  function rank(entry, query, words) {
    var code = entry.code.toLowerCase();
    if (code === query) {
      return 0;
    }
    if (code.indexOf(query) === 0) {
      return 1;
    }
    for (var i = 0; i < words.length; i++) {
      if (entry.haystack.indexOf(words[i]) < 0) {
        return -1;
      }
    }
    return 2;
  }

  function search(text) {
    var query = text.trim().toLowerCase();
    var words = query.match(/[a-z0-9]+/g) || [];
    if (!words.length) {
      return [];
    }
    var found = [];
    for (var i = 0; i < entries.length; i++) {
      var r = rank(entries[i], query, words);
      if (r >= 0) {
        found.push({ rank: r, entry: entries[i] });
      }
    }
    found.sort(function (a, b) {
      if (a.rank !== b.rank) {
        return a.rank - b.rank;
      }
      return a.entry.code < b.entry.code ? -1 : a.entry.code > b.entry.code ? 1 : 0;
    });
    return found;
  }

  function show(text) {
    var found = search(text);
    while (results.firstChild) {
      results.removeChild(results.firstChild);
    }
    found.slice(0, LIMIT).forEach(function (match) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = root + "codes/" + match.entry.code + ".html";
      link.textContent = match.entry.title;
      item.appendChild(link);
      results.appendChild(item);
    });
    if (!text.trim()) {
      status.textContent = "Type a code or words from its descriptor.";
    } else if (!found.length) {
      status.textContent = "No code matches \u201c" + text.trim() + "\u201d.";
    } else if (found.length > LIMIT) {
      status.textContent = found.length + " codes match; the first " + LIMIT +
        " are listed. Add words to narrow the search.";
    } else {
      status.textContent = found.length === 1 ? "1 code matches." : found.length + " codes match.";
    }
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { show(input.value); }, 120);
  });
  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    show(input.value);
  });

  var params = new URLSearchParams(window.location.search);
  var initial = params.get("q");
  if (initial) {
    input.value = initial;
    show(initial);
  }
})();
