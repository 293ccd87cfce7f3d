import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  error: Error | null;
}

/** A page that throws while rendering shows this instead of a blank screen. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.warn("console page failed", error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="panel mx-auto mt-10 max-w-xl p-6">
        <h1 className="text-lg font-semibold">Something went wrong on this page</h1>
        <p className="muted mt-2 text-sm break-words">{this.state.error.message}</p>
        <button type="button" className="btn btn-primary mt-4" onClick={() => window.location.reload()}>
          Reload the page
        </button>
      </div>
    );
  }
}
