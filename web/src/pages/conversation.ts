/**
 * The conversation section (spec 003 Flow 2): the start screen at `/conversation`, the join screen at
 * `/join/<id>` (and for an initiator reloading `/conversation?id=…`), the room itself, and the end
 * screens. Switches between them in place and cleans up whichever is showing.
 */
import { conversationPath, navigate, setAddress, type Cleanup } from '../router';
import { mountConversationEnded, mountJoin } from './conversation-join';
import { mountRoom } from './conversation-room';
import { mountStart } from './conversation-start';

/** How the visitor arrived: the initiator (`host`) or the person who scanned the code (`guest`). */
export interface ConversationEntry {
  role: 'host' | 'guest';
  conversationId: string | undefined;
  /** The initiator's language from the URL, when coming back to a conversation. */
  language: string | undefined;
}

/** Mounts the conversation section into `root`; returns its cleanup. */
export function mountConversation(root: HTMLElement, entry: ConversationEntry): Cleanup {
  let current: Cleanup | undefined;
  const show = (mount: (container: HTMLElement) => Cleanup) => {
    current?.();
    root.replaceChildren();
    current = mount(root);
    window.scrollTo({ top: 0 });
  };

  const joinUrlOf = (conversationId: string) => `${location.origin}/join/${encodeURIComponent(conversationId)}`;

  function room(role: 'host' | 'guest', conversationId: string, language: string, partnerLanguage: string | undefined, joinUrl: string, joinUrlWarning: string | null = null): void {
    show((container) =>
      mountRoom(container, {
        role,
        conversationId,
        language,
        partnerLanguageHint: partnerLanguage,
        joinUrl,
        joinUrlWarning,
        onLeave: () => navigate('/conversation'),
        onClosed: (reason, message) => {
          if (reason === 'unsupported') join(role, conversationId, message);
          else show((c) => mountConversationEnded(c, message));
        },
      }),
    );
  }

  function join(role: 'host' | 'guest', conversationId: string, problem?: string): void {
    show((container) =>
      mountJoin(container, {
        role,
        conversationId,
        preferredLanguage: entry.language,
        problem,
        onJoin: (language, partnerLanguage) => room(role, conversationId, language, partnerLanguage, joinUrlOf(conversationId)),
      }),
    );
  }

  if (entry.conversationId) {
    join(entry.role, entry.conversationId);
  } else {
    show((container) =>
      mountStart(container, {
        onCreated: (created, language, partnerLanguage) => {
          setAddress(conversationPath(created.conversationId, language));
          room('host', created.conversationId, language, partnerLanguage, created.joinUrl, created.joinUrlWarning);
        },
      }),
    );
  }
  return () => current?.();
}
