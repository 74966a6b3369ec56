// undici's Agent on its own: the package index also loads fetch, WebSocket, EventSource, the
// cache stores and the mock agents, about 9 MB of RSS the daemon never uses.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}
