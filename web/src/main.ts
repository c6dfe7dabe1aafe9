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
import './styles/console.css';
import { mountConsole } from './pages/console';
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

/** The room page with livekit-client, loaded on first visit so the other pages stay small. */
function mountLazyRoomPage(main: HTMLElement): Cleanup {
  let unmounted = false;
  let inner: Cleanup | undefined;
  void import('./pages/room').then(({ mountRoomPage }) => {
    if (!unmounted) inner = mountRoomPage(main);
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
      cleanup = mountLazyRoomPage(shell.main);
      break;
    case 'console':
      cleanup = mountConsole(shell.main, route.page);
      break;
    default:
      cleanup = mountNotFound(shell.main);
  }
}

startRouter(render);
