// Autobahn|JS (npm `autobahn`) against our router: scripts/router-autobahn-js.sh runs it.
//
//   node --experimental-websocket node_peer.js PORT
//
// For JSON and MessagePack over WebSocket, and JSON over RawSocket, two Autobahn|JS sessions
// join realm1; one registers `com.js.add2` and subscribes to `com.js.topic`, the other calls
// it, calls `com.rust.echo` (registered by a Rust client, `ferrobahn register`), publishes with
// acknowledge and receives the event through the router. One `ok` line per check; exit 1 on
// the first failure or after 30 s.
'use strict';
const autobahn = require('autobahn');
const assert = require('assert');

const port = process.argv[2];
setTimeout(() => { console.log('FAIL timed out'); process.exit(1); }, 30000).unref();

function open(transport, serializer) {
    return new Promise((resolve, reject) => {
        const c = new autobahn.Connection({
            transports: [transport],
            serializers: [serializer],
            realm: 'realm1',
            max_retries: 0,
        });
        c.onopen = (session) => resolve({ c, session });
        c.onclose = (reason, details) => { reject(new Error(`closed: ${reason} ${JSON.stringify(details)}`)); return true; };
        c.open();
    });
}

async function round(name, transport, serializer) {
    const a = await open(transport, serializer());
    const b = await open(transport, serializer());
    console.log(`ok   ${name}: two sessions joined (${a.session.id}, ${b.session.id})`);

    await a.session.register('com.js.add2', (args) => args[0] + args[1]);
    assert.strictEqual(await b.session.call('com.js.add2', [20, 22]), 42);
    console.log(`ok   ${name}: call com.js.add2 through our router → 42`);

    const echoed = await b.session.call('com.rust.echo', ['hello', 7]);
    const got = echoed.args !== undefined ? echoed.args : echoed;
    assert.deepStrictEqual(got, ['hello', 7]);
    console.log(`ok   ${name}: call com.rust.echo (a Rust callee) → ${JSON.stringify(got)}`);

    try {
        await b.session.call('com.js.nothing');
        throw new Error('no error for an unknown procedure');
    } catch (e) {
        assert.strictEqual(e.error, 'wamp.error.no_such_procedure');
    }
    console.log(`ok   ${name}: unknown procedure → wamp.error.no_such_procedure`);

    const event = new Promise((resolve) => {
        a.session.subscribe('com.js.topic', (args, kwargs) => resolve([args, kwargs]));
    });
    await new Promise((r) => setTimeout(r, 100));
    const pub = await b.session.publish('com.js.topic', [1, 'two'], { x: 3 }, { acknowledge: true });
    assert.ok(pub.id > 0);
    const [args, kwargs] = await event;
    assert.deepStrictEqual(args, [1, 'two']);
    assert.deepStrictEqual(kwargs, { x: 3 });
    console.log(`ok   ${name}: acknowledged publish (id ${pub.id}) → event with args and kwargs`);

    const n = await b.session.call('wamp.session.count');
    assert.ok(n >= 3, `session count ${n}`);
    console.log(`ok   ${name}: wamp.session.count → ${n}`);
    a.c.close();
    b.c.close();
}

(async () => {
    const ws = { type: 'websocket', url: `ws://127.0.0.1:${port}/ws` };
    await round('Autobahn|JS WebSocket JSON', ws, () => new autobahn.serializer.JSONSerializer());
    await round('Autobahn|JS WebSocket MessagePack', ws, () => new autobahn.serializer.MsgpackSerializer());
    await round('Autobahn|JS RawSocket JSON', { type: 'rawsocket', host: '127.0.0.1', port: Number(port), serializer: 'json' },
        () => new autobahn.serializer.JSONSerializer());
    console.log('all Autobahn|JS checks passed');
    process.exit(0);
})().catch((e) => { console.log(`FAIL ${e.stack || e}`); process.exit(1); });
