import { ApiClient } from "./client";
import { session } from "./session";

/** The console's client: the session's key, and a 401 that signs out with the API's message. */
export const api = new ApiClient({
  getToken: session.token,
  onUnauthorized: (message) => session.signOut(message),
});
