// Building the page's elements: text only (never HTML), buttons that are real buttons.

export function element(tag, content, className) {
  const made = document.createElement(tag);
  made.textContent = content;
  if (className) made.className = className;
  return made;
}

export function button(label, onClick, className) {
  const made = element("button", label, className);
  made.type = "button";
  made.addEventListener("click", onClick);
  return made;
}
