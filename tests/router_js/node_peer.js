// Autobahn|JS (npm `autobahn`) in Node against our embedded router (`ferrobahn router`).
//
//   node --experimental-websocket node_peer.js PORT FERROBAHN_BIN RUST_ECHO_PROCEDURE
//
// For each of WebSocket with JSON, MessagePack and CBOR, and RawSocket with JSON (the only
// serializer Autobahn|JS speaks over RawSocket), two Autobahn|JS sessions A and B join realm1
// and check RPC and PubSub between themselves (args, kwargs, errors, progressive results,
// acknowledge, exclude_me, prefix subscriptions, wildcard registrations, the session meta
// API), with the Rust echo procedure that the script registered (`ferrobahn register`), and
// with our command line client (`ferrobahn call`, `ferrobahn publish`, `ferrobahn
// subscribe`), which the peer runs itself. One `ok` line per check; the first failed check,
// or nothing done in 20 s, exits 1. AUTOBAHN_TRACE=FILE makes Autobahn|JS log every message.
'use strict';

const assert = require('assert');
const { execFile, spawn } = require('child_process');
// Autobahn|JS 26 uses the global WebSocket (Node 22; Node 20 with --experimental-websocket);
// an older Node gets the `ws` package's.
const wsFrom = typeof WebSocket === 'undefined' ? 'the ws package' : 'Node';
if (typeof WebSocket === 'undefined') global.WebSocket = require('ws');
const autobahn = require('autobahn');

const [port, bin, rustEcho] = process.argv.slice(2);
if (!port || !bin || !rustEcho) {
    console.error('usage: node_peer.js PORT FERROBAHN_BIN RUST_ECHO_PROCEDURE');
    process.exit(2);
}
const wsUrl = `ws://127.0.0.1:${port}/ws`;
const children = new Set();

function fail(what, err) {
    console.error(`FAIL ${what}: ${err && err.stack ? err.stack : JSON.stringify(err)}`);
    for (const c of children) c.kill();
    process.exit(1);
}
let current = 'start';
const timer = setTimeout(() => fail(current, 'timed out (20 s overall)'), 20000);
process.on('unhandledRejection', (e) => fail(current, e));
process.on('uncaughtException', (e) => fail(current, e));

let tag = '';
function ok(what) {
    console.log(`ok   [node ${tag}] ${what}`);
}

// JSON.stringify that shows binary values (Buffer, Uint8Array) as hex.
function show(v) {
    return JSON.stringify(v, (k, x) => {
        if (x && x.type === 'Buffer' && Array.isArray(x.data)) return `bytes:${Buffer.from(x.data).toString('hex')}`;
        if (x instanceof Uint8Array) return `bytes:${Buffer.from(x).toString('hex')}`;
        return x;
    });
}

function open(config, name) {
    return new Promise((resolve, reject) => {
        const conn = new autobahn.Connection(Object.assign({ realm: 'realm1', max_retries: 0, retry_if_unreachable: false }, config));
        conn.onopen = (session, details) => resolve({ conn, session, details });
        conn.onclose = (reason, details) => {
            reject(new Error(`${name}: connection closed before it opened: ${reason} ${show(details)}`));
            return true; // no retries
        };
        conn.open();
    });
}

function close(peer) {
    return new Promise((resolve) => {
        peer.conn.onclose = (reason, details) => {
            resolve({ reason, details });
            return true;
        };
        peer.conn.close();
    });
}

async function rejects(promise, uri) {
    try {
        const r = await promise;
        throw new Error(`expected the error ${uri}, got the result ${show(r)}`);
    } catch (e) {
        if (!(e instanceof autobahn.Error)) throw e;
        assert.strictEqual(e.error, uri);
        return e;
    }
}

function cli(args) {
    return new Promise((resolve, reject) => {
        const c = execFile(bin, args, { timeout: 10000 }, (err, stdout, stderr) => {
            children.delete(c);
            if (err) reject(new Error(`ferrobahn ${args.join(' ')}: ${err.message}\n${stderr}`));
            else resolve(stdout.trim());
        });
        children.add(c);
    });
}

// `ferrobahn subscribe URL TOPIC --count N`: resolves `subscribed` when it is subscribed and
// `done` with what it printed when it exits.
function cliSubscribe(topic, count) {
    const c = spawn(bin, ['subscribe', wsUrl, topic, '--count', String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(c);
    let out = '';
    let err = '';
    let onSubscribed;
    const subscribed = new Promise((resolve) => (onSubscribed = resolve));
    c.stdout.on('data', (d) => {
        out += d;
        if (out.includes('subscribed to')) onSubscribed();
    });
    c.stderr.on('data', (d) => (err += d));
    const done = new Promise((resolve, reject) => {
        c.on('exit', (code) => {
            children.delete(c);
            if (code === 0) resolve(out);
            else reject(new Error(`ferrobahn subscribe exited with ${code}: ${out}${err}`));
        });
    });
    return { subscribed, done };
}

// A queue of events for one subscription handler: next() waits for the next one.
function eventQueue() {
    const items = [];
    const waiters = [];
    return {
        push(ev) {
            if (waiters.length) waiters.shift()(ev);
            else items.push(ev);
        },
        next() {
            if (items.length) return Promise.resolve(items.shift());
            return new Promise((resolve) => waiters.push(resolve));
        },
        get pending() {
            return items.length;
        },
    };
}

async function run(name, config, serializer, transportType) {
    tag = name;
    const p = `com.ferrobahn.js.${name.replace(/\W/g, '_')}`;
    current = `${name}: joining realm1`;
    const a = await open(config, 'A');
    const b = await open(config, 'B');
    const A = a.session;
    const B = b.session;
    assert.ok(Number.isInteger(A.id) && A.id > 0 && A.id <= 2 ** 53, `session id ${A.id}`);
    assert.notStrictEqual(A.id, B.id);
    assert.ok(a.details.roles && a.details.roles.broker && a.details.roles.dealer, `WELCOME roles ${show(a.details.roles)}`);
    if (transportType === 'websocket') {
        assert.strictEqual(a.conn.transport.info.protocol, `wamp.2.${serializer}`);
    }
    ok(`sessions A ${A.id} and B ${B.id} joined realm1 (WELCOME announces broker and dealer)`);

    current = `${name}: session meta API`;
    const info = await B.call('wamp.session.get', [A.id]);
    assert.strictEqual(info.session, A.id);
    assert.strictEqual(info.authrole, 'anonymous');
    assert.strictEqual(info.transport.type, transportType);
    if (transportType === 'websocket') assert.strictEqual(info.transport.protocol, `wamp.2.${serializer}`);
    ok(`wamp.session.get(A) → ${info.transport.type} ${info.transport.protocol}, authrole ${info.authrole}`);

    current = `${name}: REGISTER`;
    const regAdd = await A.register(`${p}.add2`, (args) => args[0] + args[1]);
    await A.register(`${p}.echo`, (args, kwargs) => new autobahn.Result(args, kwargs));
    await A.register(`${p}.fail`, () => {
        throw new autobahn.Error('com.example.oops', ['bad'], { why: 'test' });
    });
    await A.register(`${p}.progress`, (args, kwargs, details) => {
        assert.ok(details.progress, 'the callee got no progress function (receive_progress not passed on)');
        for (let i = 1; i <= 3; i++) details.progress([i]);
        return 'done';
    });
    assert.ok(Number.isInteger(regAdd.id), `registration id ${regAdd.id}`);
    await rejects(B.register(`${p}.add2`, () => 0), 'wamp.error.procedure_already_exists');
    ok('A registered 4 procedures; B registering one of them again → wamp.error.procedure_already_exists');

    current = `${name}: CALL`;
    assert.strictEqual(await B.call(`${p}.add2`, [2, 3]), 5);
    ok('B calls A: add2(2, 3) → 5');
    const payload = [1, -2.5, 'zwei ☃', { nested: [true, null, 2 ** 40] }, []];
    const res = await B.call(`${p}.echo`, payload, { k: 'v', n: [1] });
    assert.ok(res instanceof autobahn.Result, `echo gave ${show(res)}`);
    assert.deepStrictEqual(res.args, payload);
    assert.deepStrictEqual(res.kwargs, { k: 'v', n: [1] });
    ok(`B calls A: echo args and kwargs round trip (${show(res.args)} ${show(res.kwargs)})`);
    const err = await rejects(B.call(`${p}.fail`, []), 'com.example.oops');
    assert.deepStrictEqual(err.args, ['bad']);
    assert.deepStrictEqual(err.kwargs, { why: 'test' });
    ok('B calls A: the callee\'s error reaches the caller (com.example.oops, args and kwargs)');
    const progress = [];
    const final = await B.call(`${p}.progress`, [], {}, { receive_progress: true }).then(null, null, (x) => progress.push(x));
    assert.deepStrictEqual(progress, [1, 2, 3]);
    assert.strictEqual(final, 'done');
    ok('B calls A with receive_progress: progressive results 1, 2, 3 then the final result');
    await rejects(B.call(`${p}.nowhere`, [1]), 'wamp.error.no_such_procedure');
    ok('a call of an unregistered procedure → wamp.error.no_such_procedure');

    current = `${name}: calls of the Rust callee (${rustEcho})`;
    const r1 = await A.call(rustEcho, payload, { k: 'v', n: [1] });
    assert.ok(r1 instanceof autobahn.Result, `Rust echo gave ${show(r1)}`);
    assert.deepStrictEqual(r1.args, payload);
    assert.deepStrictEqual(r1.kwargs, { k: 'v', n: [1] });
    ok(`A calls the Rust callee (ferrobahn register): args and kwargs come back`);
    if (serializer === 'json') {
        // WAMP's JSON convention for binary: a string "\0" + base64. The router turns it into
        // bytes for the CBOR callee and the callee's bytes back into the same string.
        const bytes = '\u0000' + Buffer.from([0, 1, 2, 0xfe, 0xff]).toString('base64');
        assert.strictEqual(await A.call(rustEcho, [bytes]), bytes);
        ok('binary through the Rust callee as the JSON "\\0"+base64 string round trips');
    } else {
        const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
        const back = await A.call(rustEcho, [bytes]);
        assert.ok(back instanceof Uint8Array, `binary came back as ${show(back)}`);
        assert.ok(Buffer.from(back).equals(bytes), `binary came back as ${show(back)}`);
        ok(`binary (${serializer} bytes) through the Rust callee round trips`);
    }

    current = `${name}: the Rust caller (ferrobahn call) calls A`;
    assert.strictEqual(await cli(['call', wsUrl, `${p}.add2`, '20', '22']), '[42]');
    assert.strictEqual(await cli(['call', wsUrl, `${p}.echo`, '1', '"two"', '{"x":[null]}']), '[1,"two",{"x":[null]}]');
    ok('ferrobahn call → A: add2(20, 22) → [42]; echo(1, "two", {"x":[null]}) round trips');

    current = `${name}: SUBSCRIBE / PUBLISH`;
    const qa = eventQueue();
    const qb = eventQueue();
    const subA = await A.subscribe(`${p}.topic`, (args, kwargs, details) => qa.push({ args, kwargs, details }));
    await B.subscribe(`${p}.topic`, (args, kwargs, details) => qb.push({ args, kwargs, details }));
    assert.ok(Number.isInteger(subA.id), `subscription id ${subA.id}`);
    const pub1 = await B.publish(`${p}.topic`, [1, 'one'], { n: 1 }, { acknowledge: true });
    assert.ok(pub1 && Number.isInteger(pub1.id) && pub1.id > 0, `PUBLISHED gave ${show(pub1)}`);
    const pub2 = await B.publish(`${p}.topic`, [2], {}, { acknowledge: true, exclude_me: false });
    assert.notStrictEqual(pub1.id, pub2.id);
    B.publish(`${p}.topic`, [3]); // not acknowledged
    ok(`B publishes with acknowledge → PUBLISHED ${pub1.id}, ${pub2.id}`);
    const e1 = await qa.next();
    assert.deepStrictEqual(e1.args, [1, 'one']);
    assert.deepStrictEqual(e1.kwargs, { n: 1 });
    assert.strictEqual(e1.details.publication, pub1.id);
    assert.strictEqual(e1.details.topic, `${p}.topic`);
    const e2 = await qa.next();
    assert.deepStrictEqual(e2.args, [2]);
    assert.strictEqual(e2.details.publication, pub2.id);
    const e3 = await qa.next();
    assert.deepStrictEqual(e3.args, [3]);
    ok('A receives the three events in order, with args, kwargs and the publication ids');
    const own = await qb.next();
    assert.deepStrictEqual(own.args, [2], `B's first event is ${show(own.args)}: exclude_me not honoured`);
    ok('the publisher B gets only its exclude_me=false event, not the others');

    current = `${name}: pattern-based subscription and registration`;
    const qp = eventQueue();
    await A.subscribe(`${p}.pfx`, (args, kwargs, details) => qp.push({ args, details }), { match: 'prefix' });
    await B.publish(`${p}.pfx.deeper.x`, ['p'], {}, { acknowledge: true });
    const ep = await qp.next();
    assert.deepStrictEqual(ep.args, ['p']);
    assert.strictEqual(ep.details.topic, `${p}.pfx.deeper.x`, `EVENT details ${show(ep.details)}`);
    await A.register(`${p}..wild`, (args, kwargs, details) => details.procedure, { match: 'wildcard' });
    const wp = await B.call(`${p}.any.wild`, []);
    assert.strictEqual(wp, `${p}.any.wild`, `the callee saw the procedure as ${show(wp)}`);
    ok('prefix subscription: the event carries its topic; wildcard registration: the callee sees the called URI');

    current = `${name}: an event published by the Rust client (ferrobahn publish)`;
    const qx = eventQueue();
    await A.subscribe(`${p}.ext`, (args, kwargs, details) => qx.push({ args, kwargs, details }));
    const said = await cli(['publish', wsUrl, `${p}.ext`, '7', '"seven"', '{"k":[true]}']);
    assert.ok(/^published \d+$/.test(said), `ferrobahn publish said ${said}`);
    const ex = await qx.next();
    assert.deepStrictEqual(ex.args, [7, 'seven', { k: [true] }]);
    ok(`A receives the event of ferrobahn publish: ${show(ex.args)}`);

    current = `${name}: the Rust subscriber (ferrobahn subscribe) gets B's event`;
    const rs = cliSubscribe(`${p}.out`, 1);
    await rs.subscribed;
    await B.publish(`${p}.out`, [1, 'x', { y: null }], {}, { acknowledge: true });
    const printed = await rs.done;
    assert.ok(printed.includes(`${p}.out [1,"x",{"y":null}]`), `ferrobahn subscribe printed ${printed}`);
    ok('ferrobahn subscribe receives B\'s event [1,"x",{"y":null}]');

    current = `${name}: UNSUBSCRIBE / UNREGISTER`;
    await subA.unsubscribe();
    await regAdd.unregister();
    await rejects(B.call(`${p}.add2`, [1, 1]), 'wamp.error.no_such_procedure');
    await B.publish(`${p}.topic`, [4], {}, { acknowledge: true, exclude_me: false });
    assert.deepStrictEqual((await qb.next()).args, [4]);
    assert.strictEqual(qa.pending, 0, 'A still got an event after UNSUBSCRIBE');
    ok('after UNREGISTER the procedure is gone; after UNSUBSCRIBE A gets no more events');

    current = `${name}: GOODBYE`;
    const ca = await close(a);
    const cb = await close(b);
    assert.strictEqual(ca.reason, 'closed', `A closed with ${ca.reason} ${show(ca.details)}`);
    assert.strictEqual(cb.reason, 'closed', `B closed with ${cb.reason} ${show(cb.details)}`);
    ok('both sessions leave with GOODBYE and their connections close cleanly');
}

(async () => {
    const ws = (serializer, ctor) => ({ transports: [{ type: 'websocket', url: wsUrl, serializers: [new ctor()] }] });
    const s = autobahn.serializer;
    assert.ok(s.MsgpackSerializer && s.CBORSerializer, 'this Autobahn|JS has no MessagePack or CBOR serializer');
    console.log(`node ${process.version}, WebSocket from ${wsFrom}, Autobahn|JS ${autobahn.version}, router ${wsUrl}`);
    await run('ws/json', ws('json', s.JSONSerializer), 'json', 'websocket');
    await run('ws/msgpack', ws('msgpack', s.MsgpackSerializer), 'msgpack', 'websocket');
    await run('ws/cbor', ws('cbor', s.CBORSerializer), 'cbor', 'websocket');
    await run('rs/json', { transports: [{ type: 'rawsocket', host: '127.0.0.1', port: Number(port) }] }, 'json', 'rawsocket');
    clearTimeout(timer);
    console.log('node_peer.js: all checks passed');
    process.exit(0);
})().catch((e) => fail(current, e));
