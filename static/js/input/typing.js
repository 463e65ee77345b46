/** Whether a key event's target is a text field, where shortcuts must stay out of the way. */
export function isTyping(target) {
  const tag = target?.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable === true;
}
