import { Link } from "react-router";

export function NotFound() {
  return (
    <div className="panel mx-auto mt-10 max-w-xl p-6">
      <h1 className="text-lg font-semibold">Page not found</h1>
      <p className="muted mt-2 text-sm">There is nothing at this address in the console.</p>
      <p className="mt-4 flex gap-4 text-sm">
        <Link className="link" to="/">
          Home
        </Link>
        <Link className="link" to="/jobs">
          Jobs
        </Link>
      </p>
    </div>
  );
}
