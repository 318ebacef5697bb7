import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrainerEvents, TrainerEventParser, type StreamIssue } from '../../src/core/training/trainerEventStream.ts';
import type { TrainerEvent } from '../../src/protocol/trainerEvents.ts';

const metrics = (step: number, loss: number) => JSON.stringify({ type: 'metrics', step, time: '2026-11-21T00:00:00Z', metrics: { loss, 'rewards/margins': step / 10 } });

describe('trainer event stream', () => {
  it('joins lines split across chunks', () => {
    const events: TrainerEvent[] = [];
    const parser = new TrainerEventParser((e) => events.push(e));
    const text = `${metrics(1, 0.69)}\n${metrics(2, 0.6)}\n`;
    for (const cut of [5, 40, 70]) {
      events.length = 0;
      parser.push(text.slice(0, cut));
      parser.push(text.slice(cut));
      assert.deepEqual(events.map((e) => (e.type === 'metrics' ? e.step : -1)), [1, 2]);
    }
  });

  it('reports garbled and foreign lines with their line number and keeps going', () => {
    const { events, issues } = parseTrainerEvents(
      [metrics(1, 0.69), '{"type": "metrics", "step": 2, "metr', 'Hi there, some library printed this', '{"type":"metrics","step":3,"metrics":{"loss":"high"}}', '{"type":"telemetry"}', metrics(4, 0.5)].join('\r\n') + '\r\n',
    );
    assert.deepEqual(events.map((e) => (e.type === 'metrics' ? e.step : -1)), [1, 4]);
    assert.deepEqual(issues.map((i: StreamIssue) => [i.line, i.message]), [
      [2, 'not valid JSON'],
      [3, 'not valid JSON'],
      [4, 'a metrics event needs a numeric "step" and numeric "metrics"'],
      [5, 'unknown event type "telemetry"'],
    ]);
  });

  it('reads a last line without a newline, and names a truncated one', () => {
    assert.equal(parseTrainerEvents(metrics(1, 0.7)).events.length, 1);
    const cut = parseTrainerEvents(`${metrics(1, 0.7)}\n${metrics(2, 0.6).slice(0, 20)}`);
    assert.equal(cut.events.length, 1);
    assert.deepEqual(cut.issues.map((i) => [i.line, i.message]), [[2, 'truncated last line']]);
  });
});
