// A read-only value (an invitation link, an API key) with a Copy button that says when it has copied.
import { useId, useRef, useState } from "react";
import { Button } from "./Button";
import { Icon } from "./Icon";

export function CopyField({ label, value }: { label: string; value: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard permission: select the text so that Ctrl+C copies it.
      input.current?.select();
      document.execCommand("copy");
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 2500);
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-field">
        <input id={id} ref={input} readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <Button variant="primary" onClick={copy}>
          <Icon name={copied ? "check" : "copy"} /> {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      <p className="visually-hidden" aria-live="polite">
        {copied ? `${label} copied to the clipboard` : ""}
      </p>
    </div>
  );
}
