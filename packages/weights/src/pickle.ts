import { EmbedderError } from '@embedder-rag/core';

/** A class or function a pickle may call, as the allow-list maps it: takes the REDUCE arguments. */
export type PickleCallable = (args: unknown[]) => unknown;

/** How {@link unpickle} resolves the only two ways a pickle reaches outside itself. */
export interface UnpickleHooks {
  /** Returns the callable for `module.name`, or throws: this is the allow-list. */
  findClass(module: string, name: string): PickleCallable;
  /** Resolves a persistent id (PyTorch: a storage reference). */
  persistentLoad(pid: unknown): unknown;
}

/** A dict as unpickled (insertion-ordered, like OrderedDict). */
export class PickleDict extends Map<unknown, unknown> {}

/** Opcode byte → name, for the opcodes a PyTorch state dict uses (protocols 2-4). Everything else is refused. */
const OPCODES: Readonly<Record<number, string>> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x2e: 'STOP', 0x28: 'MARK', 0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST',
  0x29: 'EMPTY_TUPLE', 0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x94: 'MEMOIZE', 0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x4a: 'BININT', 0x4b: 'BININT1',
  0x4d: 'BININT2', 0x8a: 'LONG1', 0x58: 'BINUNICODE', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x4e: 'NONE', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x47: 'BINFLOAT',
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD', 0x61: 'APPEND', 0x65: 'APPENDS',
  0x73: 'SETITEM', 0x75: 'SETITEMS', 0x51: 'BINPERSID', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP',
};

/**
 * A restricted unpickler: a stack machine over the opcodes above, with no code execution. Classes come only from
 * `hooks.findClass` (the caller's allow-list); any other opcode (e.g. INST, OBJ, EXT*, NEWOBJ) is refused.
 * @param source names the pickle in error messages.
 * @throws EmbedderError WEIGHTS_INVALID for a refused opcode or class, or a malformed pickle.
 */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks, source: string): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

  const fail = (message: string): never => {
    throw new EmbedderError('WEIGHTS_INVALID', `${source}: ${message}`, { details: { file: source, offset: pos } });
  };
  const need = (count: number): number => {
    if (pos + count > data.byteLength) fail(`pickle ends unexpectedly at byte ${pos}`);
    const at = pos;
    pos += count;
    return at;
  };
  const pop = (): unknown => (stack.length === 0 ? fail('pickle stack underflow') : stack.pop());
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (!previous) return fail('pickle has no MARK to pop');
    stack = previous;
    return items;
  };
  const top = (): unknown => (stack.length === 0 ? fail('pickle stack underflow') : stack[stack.length - 1]);
  const readLine = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated GLOBAL name');
    const line = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return line;
  };
  const text = (length: number): string => utf8.decode(data.subarray(need(length), pos));
  const call = (callable: unknown, args: unknown): unknown => {
    if (typeof callable !== 'function' || !Array.isArray(args)) return fail('REDUCE on something that is not an allowed class');
    return (callable as PickleCallable)(args);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEMS on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };

  for (;;) {
    const code = data[need(1)]!;
    const name = OPCODES[code];
    if (!name) fail(`pickle opcode 0x${code.toString(16)} at byte ${pos - 1} is not allowed in a weights file`);
    switch (name) {
      case 'PROTO': need(1); break;
      case 'FRAME': need(8); break;
      case 'STOP': return pop();
      case 'MARK': marks.push(stack); stack = []; break;
      case 'EMPTY_DICT': stack.push(new PickleDict()); break;
      case 'EMPTY_LIST': stack.push([]); break;
      case 'EMPTY_TUPLE': stack.push([]); break;
      case 'TUPLE': { const items = popMark(); stack.push(items); break; }
      case 'TUPLE1': stack.push([pop()]); break;
      case 'TUPLE2': { const b = pop(); stack.push([pop(), b]); break; }
      case 'TUPLE3': { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; }
      case 'BINPUT': memo.set(data[need(1)]!, top()); break;
      case 'LONG_BINPUT': memo.set(view.getUint32(need(4), true), top()); break;
      case 'MEMOIZE': memo.set(memo.size, top()); break;
      case 'BINGET':
      case 'LONG_BINGET': {
        const key = name === 'BINGET' ? data[need(1)]! : view.getUint32(need(4), true);
        if (!memo.has(key)) fail(`pickle refers to memo entry ${key}, which was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 'BININT': stack.push(view.getInt32(need(4), true)); break;
      case 'BININT1': stack.push(data[need(1)]!); break;
      case 'BININT2': stack.push(view.getUint16(need(2), true)); break;
      case 'LONG1': {
        const length = data[need(1)]!;
        const start = need(length);
        let value = 0n;
        for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[start + i]!);
        if (length > 0 && data[start + length - 1]! & 0x80) value -= 1n << BigInt(8 * length);
        stack.push(Number.isSafeInteger(Number(value)) ? Number(value) : value);
        break;
      }
      case 'BINUNICODE': stack.push(text(view.getUint32(need(4), true))); break;
      case 'SHORT_BINUNICODE': stack.push(text(data[need(1)]!)); break;
      case 'BINUNICODE8': stack.push(text(Number(view.getBigUint64(need(8), true)))); break;
      case 'BINSTRING':
      case 'SHORT_BINSTRING': {
        const length = name === 'BINSTRING' ? view.getInt32(need(4), true) : data[need(1)]!;
        stack.push(latin1.decode(data.subarray(need(length), pos)));
        break;
      }
      case 'NONE': stack.push(null); break;
      case 'NEWTRUE': stack.push(true); break;
      case 'NEWFALSE': stack.push(false); break;
      case 'BINFLOAT': stack.push(view.getFloat64(need(8), false)); break;
      case 'GLOBAL': { const module = readLine(); stack.push(hooks.findClass(module, readLine())); break; }
      case 'STACK_GLOBAL': {
        const member = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof member !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.findClass(module as string, member as string));
        break;
      }
      case 'REDUCE': { const args = pop(); stack.push(call(pop(), args)); break; }
      // BUILD sets an object's state; on a state dict that is OrderedDict._metadata, which tensors do not need.
      case 'BUILD': { pop(); if (!(top() instanceof Map)) fail('BUILD on something that is not a dict'); break; }
      case 'APPEND': { const item = pop(); const list = top(); if (!Array.isArray(list)) fail('APPEND to a non-list'); (list as unknown[]).push(item); break; }
      case 'APPENDS': { const items = popMark(); const list = top(); if (!Array.isArray(list)) fail('APPENDS to a non-list'); (list as unknown[]).push(...items); break; }
      case 'SETITEM': { const value = pop(); const key = pop(); setItems(top(), [key, value]); break; }
      case 'SETITEMS': { const items = popMark(); setItems(top(), items); break; }
      case 'BINPERSID': stack.push(hooks.persistentLoad(pop())); break;
      case 'POP': pop(); break;
      case 'POP_MARK': popMark(); break;
      case 'DUP': stack.push(top()); break;
    }
  }
}
