import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { JsonViewer } from "./JsonViewer";

describe("JsonViewer", () => {
  it("shows markup in keys and values as text, never as HTML", () => {
    const hostile = '<img src=x onerror="window.pwned=1">';
    const { container } = render(<JsonViewer value={{ summary: hostile, [hostile]: 1 }} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toContain(JSON.stringify(hostile));
    expect(screen.getAllByText(JSON.stringify(hostile))).toHaveLength(2); // the value and the key
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it("shows every scalar kind as JSON", () => {
    const { container } = render(<JsonViewer value={{ s: "a", n: 1.5, t: true, z: null, e: [], o: {} }} />);
    const text = container.textContent ?? "";
    for (const part of ['"s": "a",', '"n": 1.5,', '"t": true,', '"z": null,', '"e": [],', '"o": {}']) {
      expect(text.replace(/\s+/g, " ")).toContain(part);
    }
  });

  it("collapses below the open depth and opens on a click", () => {
    render(<JsonViewer value={{ fields: { status: { name: "Done" } } }} openDepth={2} />);
    expect(screen.queryByText('"Done"')).toBeNull();
    const toggle = screen.getByRole("button", { name: "Expand status" });
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(toggle);
    expect(screen.getByText('"Done"')).toBeTruthy();
    expect(screen.getByRole("button", { name: "Collapse status" }).getAttribute("aria-expanded")).toBe("true");
  });

  it("shows the first items of a long array and more on request", () => {
    const items = Array.from({ length: 120 }, (_, i) => `item-${i}`);
    render(<JsonViewer value={{ items }} limit={50} />);
    expect(screen.getByText('"item-49"')).toBeTruthy();
    expect(screen.queryByText('"item-50"')).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: /show more \(50 of 70 left\)/ }));
    expect(screen.getByText('"item-99"')).toBeTruthy();
    expect(screen.queryByText('"item-100"')).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: /show more \(20 of 20 left\)/ }));
    expect(screen.getByText('"item-119"')).toBeTruthy();
    expect(screen.queryByRole("button", { name: /show more/ })).toBeNull();
  });

  it("renders a large payload without rendering its collapsed parts", () => {
    const big = { issues: Array.from({ length: 5000 }, (_, i) => ({ id: i, fields: { summary: `s${i}` } })) };
    const { container } = render(<JsonViewer value={big} openDepth={2} limit={50} />);
    expect(container.querySelectorAll("li").length).toBeLessThan(200);
  });
});
