// A dropdown menu button (WAI-ARIA menu button): Enter/Space/ArrowDown opens it, arrows move,
// Escape closes and returns focus, a click outside closes it.
import { Fragment, type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { Icon } from "./Icon";

export interface MenuItem {
  key: string;
  label: ReactNode;
  /** A second line, e.g. the role in an organisation. */
  detail?: ReactNode;
  onSelect: () => void;
  current?: boolean;
  icon?: ReactNode;
  separatorBefore?: boolean;
}

export function Menu({
  label,
  button,
  items,
  align = "start",
  header,
}: {
  /** What the button is, for screen readers (e.g. "Switch organisation"). */
  label: string;
  button: ReactNode;
  items: MenuItem[];
  align?: "start" | "end";
  header?: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const itemRefs = useRef<(HTMLButtonElement | null)[]>([]);

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    const first = items.findIndex((i) => i.current);
    itemRefs.current[Math.max(first, 0)]?.focus();
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open, items]);

  const close = () => {
    setOpen(false);
    trigger.current?.focus();
  };

  const onMenuKey = (e: KeyboardEvent) => {
    const buttons = itemRefs.current.filter((b): b is HTMLButtonElement => b !== null);
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const move = (to: number) => {
      e.preventDefault();
      buttons[(to + buttons.length) % buttons.length]?.focus();
    };
    if (e.key === "ArrowDown") move(at + 1);
    else if (e.key === "ArrowUp") move(at - 1);
    else if (e.key === "Home") move(0);
    else if (e.key === "End") move(buttons.length - 1);
    else if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "Tab") setOpen(false);
  };

  return (
    <div className="menu" ref={root}>
      <button
        ref={trigger}
        type="button"
        className="menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-label={label}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        {button}
        <Icon name="chevronDown" size={16} />
      </button>
      {open && (
        <div className={`menu-popover menu-${align}`}>
          {header}
          <div id={id} role="menu" aria-label={label} tabIndex={-1} onKeyDown={onMenuKey}>
            {items.map((item, i) => (
              <Fragment key={item.key}>
                {item.separatorBefore && <hr className="menu-separator" />}
                <button
                  ref={(el) => {
                    itemRefs.current[i] = el;
                  }}
                  type="button"
                  role="menuitem"
                  tabIndex={-1}
                  className={`menu-item ${item.current ? "menu-item-current" : ""}`}
                  aria-current={item.current || undefined}
                  onClick={() => {
                    setOpen(false);
                    item.onSelect();
                  }}
                >
                  {item.icon}
                  <span className="menu-item-text">
                    <span>{item.label}</span>
                    {item.detail && <span className="menu-item-detail">{item.detail}</span>}
                  </span>
                  {item.current && <Icon name="check" size={16} />}
                </button>
              </Fragment>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
