/** The API's base URL when PUBLIC_API_BASE is unset (the server's default port, locally). */
export const DEFAULT_API_BASE = 'http://localhost:8080';
