// Submit a run: a shipped spec or a pasted one, a form made from its inputs, files uploaded.
"use strict";

(function () {
  const pick = document.getElementById("spec-pick");
  const paste = document.getElementById("paste");
  const specError = document.getElementById("spec-error");
  const form = document.getElementById("inputs-form");
  const inputsBox = document.getElementById("inputs");
  const submitError = document.getElementById("submit-error");
  let loaded = null; // {spec: name or object, name, inputs}

  pick.addEventListener("change", () => { paste.hidden = pick.value !== ""; form.hidden = true; });
  paste.hidden = pick.value !== "";

  function field(name, decl) {
    const id = `input-${name}`;
    const label = el("label", { for: id, text: `${name}${decl.required ? " *" : ""} (${decl.type})` });
    const given = decl.default === null || decl.default === undefined ? "" : decl.default;
    let control;
    if (decl.enum) {
      control = el("select", { id, name }, ...decl.enum.map((v) => el("option", { value: JSON.stringify(v), selected: v === decl.default, text: String(v) })));
    } else if (decl.type === "file") {
      control = el("input", { id, name, type: "file", required: decl.required });
    } else if (decl.type === "boolean") {
      control = el("input", { id, name, type: "checkbox", checked: Boolean(decl.default) });
    } else if (decl.type === "integer" || decl.type === "number") {
      control = el("input", { id, name, type: "number", step: decl.type === "integer" ? "1" : "any", value: given, required: decl.required });
    } else if (decl.type === "list" || decl.type === "object") {
      control = el("textarea", { id, name, rows: 3, cols: 70, placeholder: "JSON" });
      control.value = given === "" ? "" : JSON.stringify(given);
    } else {
      control = el("input", { id, name, type: decl.secret ? "password" : "text", size: 70, required: decl.required });
      control.value = given;
    }
    control.dataset.type = decl.enum ? "enum" : decl.type;
    return el("p", { class: "field" }, label, el("br"), control,
      decl.description ? el("small", { class: "hint", text: decl.description }) : null);
  }

  document.getElementById("load-inputs").addEventListener("click", async () => {
    specError.hidden = true;
    let response;
    if (pick.value) {
      response = await fetch(`/api/dashboard/specs/${encodeURIComponent(pick.value)}`);
    } else {
      response = await fetch("/api/dashboard/spec", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: document.getElementById("spec-text").value }),
      });
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      specError.textContent = errorText(body, response.status);
      specError.hidden = false;
      form.hidden = true;
      return;
    }
    loaded = body;
    document.getElementById("spec-name").textContent = body.name;
    inputsBox.replaceChildren(...Object.entries(body.inputs).map(([n, d]) => field(n, d)));
    form.hidden = false;
  });

  // The inputs as JSON values, and the file parts (sent as form fields named by the input).
  function collect() {
    const inputs = {}, files = [];
    for (const control of inputsBox.querySelectorAll("[name]")) {
      const type = control.dataset.type, name = control.name;
      if (type === "file") { if (control.files.length) files.push([name, control.files[0]]); continue; }
      if (type === "boolean") { inputs[name] = control.checked; continue; }
      if (control.value === "") continue; // the spec's default applies
      if (type === "enum") inputs[name] = JSON.parse(control.value);
      else if (type === "integer") inputs[name] = parseInt(control.value, 10);
      else if (type === "number") inputs[name] = Number(control.value);
      else if (type === "list" || type === "object") {
        try { inputs[name] = JSON.parse(control.value); } catch (err) { throw new Error(`input ${name}: not JSON (${err.message})`); }
      } else inputs[name] = control.value;
    }
    return { inputs, files };
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submitError.hidden = true;
    let collected;
    try { collected = collect(); } catch (err) {
      submitError.textContent = err.message; submitError.hidden = false; return;
    }
    const data = new FormData();
    const request = { spec: loaded.spec, inputs: collected.inputs, cache: document.getElementById("use-cache").checked };
    data.append("request", JSON.stringify(request));
    for (const [name, file] of collected.files) data.append(name, file, file.name);
    const response = await fetch("/api/runs/with-files", { method: "POST", body: data });
    const body = await response.json().catch(() => null);
    if (response.status === 201) { location.href = `/runs/${encodeURIComponent(body.id)}`; return; }
    submitError.textContent = errorText(body, response.status);
    submitError.hidden = false;
  });
})();
