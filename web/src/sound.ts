import { createStore } from './store';

/**
 * The new-order sound: a short two-tone beep made with the Web Audio API (no
 * file to load). Browsers only let a page make sound after the person has
 * interacted with it, so the audio context is created on the first click or
 * key press; the mute toggle is remembered in localStorage.
 */

const MUTE_KEY = 'orders.sound-muted';

export const muted = createStore<boolean>(localStorage.getItem(MUTE_KEY) === 'true');
muted.subscribe((value) => localStorage.setItem(MUTE_KEY, String(value)));

/** Whether sound can play yet (a first interaction happened). */
export const soundReady = createStore(false);
/** How many beeps were played; shown on the sound toggle for people and tests. */
export const beeps = createStore(0);

let context: AudioContext | undefined;

function unlock() {
  try {
    context ??= new AudioContext();
    void context.resume().then(() => soundReady.set(context?.state === 'running'));
  } catch {
    // No Web Audio here: the visual alert still shows.
  }
}
for (const event of ['pointerdown', 'keydown'] as const) addEventListener(event, unlock, { capture: true });

export function beep() {
  if (muted.get() || !context || context.state !== 'running') return;
  const start = context.currentTime;
  for (const [offset, frequency] of [
    [0, 880],
    [0.18, 1320],
  ] as const) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = 'sine';
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.15);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.16);
  }
  beeps.set((n) => n + 1);
}
