import { describe, expect, it } from 'vitest';
import { conversationPath, matchRoute } from './router';

describe('matchRoute', () => {
  it('maps the four served paths', () => {
    expect(matchRoute('/', '')).toEqual({ name: 'live' });
    expect(matchRoute('/room', '')).toEqual({ name: 'room' });
    expect(matchRoute('/conversation', '')).toEqual({ name: 'conversation', conversationId: undefined, language: undefined });
    expect(matchRoute('/conversation/', '?id=abc&lang=en-US')).toEqual({ name: 'conversation', conversationId: 'abc', language: 'en-US' });
    expect(matchRoute('/join/Zx9_a-b', '')).toEqual({ name: 'join', conversationId: 'Zx9_a-b' });
  });

  it('maps the console pages', () => {
    expect(matchRoute('/console', '')).toEqual({ name: 'console', page: 'developer' });
    expect(matchRoute('/console/developer/', '')).toEqual({ name: 'console', page: 'developer' });
    expect(matchRoute('/console/glossary', '')).toEqual({ name: 'console', page: 'glossary' });
    expect(matchRoute('/console/nope', '')).toEqual({ name: 'not-found' });
    expect(matchRoute('/console/sessions', '')).toEqual({ name: 'console', page: 'sessions' });
    expect(matchRoute('/console/sessions/sess_a%20b/', '')).toEqual({ name: 'console', page: 'session', sessionId: 'sess_a b' });
    expect(matchRoute('/console/sessions/%E0%A4%A', '')).toEqual({ name: 'not-found' });
    expect(matchRoute('/console/sessions/a/b', '')).toEqual({ name: 'not-found' });
    expect(matchRoute('/console/sessions/sess_c', '?kind=call')).toEqual({ name: 'console', page: 'call', sessionId: 'sess_c' });
  });

  it('sends anything else to the not-found page', () => {
    for (const path of ['/join', '/join/a/b', '/settings', '/join/%E0%A4%A']) expect(matchRoute(path, '')).toEqual({ name: 'not-found' });
  });

  it('round-trips the initiator URL of a conversation', () => {
    const url = new URL(conversationPath('a b&c', 'en-US'), 'http://tolk.test');
    expect(matchRoute(url.pathname, url.search)).toEqual({ name: 'conversation', conversationId: 'a b&c', language: 'en-US' });
  });
});
