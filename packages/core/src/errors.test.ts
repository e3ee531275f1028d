import { describe, expect, it } from 'vitest';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { EmbedderError, ErrorCode, deserializeError, isEmbedderError, isErrorCode, serializeError } from './errors';

/** A value as it arrives on the other side of a postMessage (structured clone through a real port). */
function posted<T>(value: T): T {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(value);
  const received = receiveMessageOnPort(port2)!.message as T;
  port1.close();
  return received;
}

describe('error (de)serialisation', () => {
  it('round-trips every EmbedderError code with its message and details through a message port', () => {
    for (const code of Object.values(ErrorCode)) {
      const original = new EmbedderError(code, `failed: ${code}`, { details: { limit: 512, field: 'inputs', nested: { files: ['a', 'b'] } } });
      const revived = deserializeError(posted(serializeError(original)));
      expect(isEmbedderError(revived, code), code).toBe(true);
      expect(revived).toBeInstanceOf(EmbedderError);
      expect(revived.message).toBe(original.message);
      expect((revived as EmbedderError).details).toEqual(original.details);
    }
  });

  it('keeps the name of other errors (an AbortError stays one) and their string code', () => {
    const abort = deserializeError(posted(serializeError(new DOMException('client disconnected', 'AbortError'))));
    expect(abort.name).toBe('AbortError');
    expect(abort.message).toBe('client disconnected');
    const system = deserializeError(serializeError(Object.assign(new Error('no such file'), { code: 'ENOENT' })));
    expect(system).toMatchObject({ name: 'Error', message: 'no such file', code: 'ENOENT' });
    expect(isEmbedderError(system)).toBe(false);
    expect(deserializeError(serializeError(new TypeError('bad')))).toMatchObject({ name: 'TypeError', message: 'bad' });
  });

  it('serialises thrown non-errors and details JSON cannot hold into plain JSON', () => {
    expect(serializeError('boom')).toEqual({ name: 'Error', message: 'boom' });
    expect(serializeError(undefined)).toEqual({ name: 'Error', message: 'undefined' });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(serializeError(new EmbedderError('INVALID_INPUT', 'x', { details: cyclic })).details).toEqual({});
    const odd = serializeError(new EmbedderError('INVALID_INPUT', 'x', { details: { f: () => 1, n: 2, big: undefined } }));
    expect(odd.details).toEqual({ n: 2 });
    // What serializeError returns always survives JSON and structured clone unchanged.
    expect(JSON.parse(JSON.stringify(odd))).toEqual(odd);
  });

  it('never makes an EmbedderError with a code this version does not know', () => {
    const revived = deserializeError({ name: 'EmbedderError', code: 'FROM_THE_FUTURE', message: 'new failure' });
    expect(isEmbedderError(revived)).toBe(false);
    expect(revived.message).toBe('FROM_THE_FUTURE: new failure');
    expect(isErrorCode('INVALID_INPUT')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});
