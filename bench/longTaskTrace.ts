// Lists what the page's long tasks (≥ 50 ms on the renderer's main thread) spent their time on, from a Chromium trace
// written by `npm run bench -- --trace trace.json` (with `--only mainThread`, say): per task, the self time of the
// trace events inside it, largest first (GC, deserializing messages, script…).
//
// Run: npx tsx bench/longTaskTrace.ts trace.json [minimum ms, default 50]
// Not a test: it asserts nothing and prints a table.
import { readFileSync } from 'node:fs';

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time of a complete event, in µs: far below `dur` when the thread was descheduled. */
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

const [path, minimum = '50'] = process.argv.slice(2);
if (!path) throw new Error('usage: npx tsx bench/longTaskTrace.ts trace.json [minimum ms]');
const parsed = JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: TraceEvent[] } | TraceEvent[];
const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
const threadNames = new Map<string, string>();
for (const event of events)
  if (event.ph === 'M' && event.name === 'thread_name') threadNames.set(`${event.pid}:${event.tid}`, event.args?.name ?? '');

// Complete events of every thread, as [start, end] in µs.
const byThread = new Map<string, { name: string; cat: string; start: number; end: number; cpu: number | undefined }[]>();
for (const event of events) {
  if (event.ph !== 'X' || event.dur === undefined) continue;
  const thread = `${event.pid}:${event.tid}`;
  const list = byThread.get(thread) ?? [];
  list.push({ name: event.name, cat: event.cat, start: event.ts, end: event.ts + event.dur, cpu: event.tdur });
  byThread.set(thread, list);
}

for (const [thread, list] of byThread) {
  const threadName = threadNames.get(thread) ?? thread;
  if (threadName !== 'CrRendererMain') continue;
  list.sort((a, b) => a.start - b.start || b.end - a.end);
  const tasks = list.filter((event) => event.name === 'RunTask' || event.name === 'ThreadControllerImpl::RunTask');
  const long = tasks.filter((task) => task.end - task.start >= Number(minimum) * 1000);
  console.log(`${threadName} (${thread}): ${tasks.length} tasks, ${long.length} of at least ${minimum} ms`);
  for (const task of long) {
    // Self time of every event nested in the task: its duration minus its children's.
    const inside = list.filter((event) => event.start >= task.start && event.end <= task.end && event !== task);
    const self = new Map<string, number>();
    const stack: { name: string; end: number; childTime: number; dur: number }[] = [];
    const pop = () => {
      const done = stack.pop()!;
      self.set(done.name, (self.get(done.name) ?? 0) + done.dur - done.childTime);
    };
    for (const event of inside) {
      while (stack.length && stack[stack.length - 1]!.end <= event.start) pop();
      const parent = stack[stack.length - 1];
      if (parent) parent.childTime += event.end - event.start;
      stack.push({ name: `${event.name} [${event.cat}]`, end: event.end, childTime: 0, dur: event.end - event.start });
    }
    while (stack.length) pop();
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(
      `  task of ${((task.end - task.start) / 1000).toFixed(1)} ms (on CPU ${task.cpu === undefined ? '?' : (task.cpu / 1000).toFixed(1)} ms): ${top.map(([name, us]) => `${name} ${(us / 1000).toFixed(1)} ms`).join('; ')}`,
    );
  }
}
