// The emergency sound, made with the Web Audio API (no audio file). Browsers play sound only after
// a user gesture, so the operator switches it on with the visible toggle; the choice is kept in
// localStorage and the audio context is resumed at the next click anywhere on the page.

const KEY = 'homesafe.console.sound';
let context = null;

export function soundWanted() {
  return localStorage.getItem(KEY) === 'on';
}

export function setSoundWanted(on) {
  localStorage.setItem(KEY, on ? 'on' : 'off');
  if (on) unlock();
}

// Must run inside a user gesture (click/keydown) the first time.
export function unlock() {
  try {
    if (!context) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      context = new Ctx();
    }
    if (context.state === 'suspended') context.resume();
  } catch {
    context = null;
  }
}

export function soundReady() {
  return context !== null && context.state === 'running';
}

// Three rising two-tone chimes: clearly an alarm, not harsh.
export function playEmergency() {
  if (!soundWanted() || !context || context.state !== 'running') return false;
  const start = context.currentTime + 0.02;
  const notes = [
    [880, 0.0],
    [1175, 0.18],
    [880, 0.5],
    [1175, 0.68],
    [880, 1.0],
    [1175, 1.18],
  ];
  for (const [frequency, offset] of notes) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    const t = start + offset;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.35, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
    osc.connect(gain).connect(context.destination);
    osc.start(t);
    osc.stop(t + 0.18);
  }
  return true;
}

// A single short tone to confirm the sound works when it is switched on.
export function playTest() {
  if (!context || context.state !== 'running') return;
  const osc = context.createOscillator();
  const gain = context.createGain();
  const t = context.currentTime + 0.02;
  osc.frequency.value = 660;
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
  osc.connect(gain).connect(context.destination);
  osc.start(t);
  osc.stop(t + 0.3);
}
