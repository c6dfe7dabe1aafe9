/**
 * Entry point: fonts and styles, the app frame, and the router that mounts one page at a time
 * (each page returns a cleanup that stops its microphone and sockets).
 */
import '@fontsource-variable/inter/wght.css';
import './styles/base.css';
import './styles/components.css';
import './styles/feedback.css';
import './styles/live.css';
import './styles/conversation.css';
import './styles/room.css';
import './styles/interpreter-room.css';
import { mountConversation } from './pages/conversation';
import { mountLive } from './pages/live';
import { mountNotFound } from './pages/not-found';
import { startRouter, type Cleanup, type Route } from './router';
import { mountShell } from './shell';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
const shell = mountShell(root);
let cleanup: Cleanup | undefined;

const TITLES: Record<Route['name'], string> = {
  live: 'Live translation · Tolk',
  conversation: 'Conversation · Tolk',
  join: 'Join a conversation · Tolk',
  room: 'Interpreter room · Tolk',
  console: 'Console · Tolk',
  'not-found': 'Page not found · Tolk',
};

/**
 * A page whose code is a separate chunk, loaded on first visit so the other pages stay small: the
 * room page (livekit-client) and the console.
 */
function mountLazy(load: () => Promise<(main: HTMLElement) => Cleanup>, main: HTMLElement): Cleanup {
  let unmounted = false;
  let inner: Cleanup | undefined;
  void load().then((mount) => {
    if (!unmounted) inner = mount(main);
  });
  return () => {
    unmounted = true;
    inner?.();
  };
}

function render(route: Route): void {
  cleanup?.();
  shell.main.replaceChildren();
  shell.setRoute(route);
  document.title = TITLES[route.name];
  switch (route.name) {
    case 'live':
      cleanup = mountLive(shell.main);
      break;
    case 'conversation':
      cleanup = mountConversation(shell.main, { role: 'host', conversationId: route.conversationId, language: route.language });
      break;
    case 'join':
      cleanup = mountConversation(shell.main, { role: 'guest', conversationId: route.conversationId, language: undefined });
      break;
    case 'room':
      cleanup = mountLazy(async () => (await import('./pages/room')).mountRoomPage, shell.main);
      break;
    case 'console':
      cleanup = mountLazy(async () => {
        const { mountConsole } = await import('./pages/console');
        return (main) => mountConsole(main, route.page, route.sessionId);
      }, shell.main);
      break;
    default:
      cleanup = mountNotFound(shell.main);
  }
}

startRouter(render);
