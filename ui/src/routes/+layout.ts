// Client-side rendering only: the server sends the same empty shell to everyone and never
// renders user data; every call to the API is made by the browser with its own cookies.
export const ssr = false;
export const prerender = false;
