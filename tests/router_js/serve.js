// Serves the files of DIR over HTTP on 127.0.0.1, on a port the kernel picks, and prints the
// URL once listening:  node serve.js DIR
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const dir = path.resolve(process.argv[2]);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    const file = path.join(dir, name);
    console.log(`${req.method} ${req.url}`);
    if (!name || name.includes('..') || path.dirname(file) !== dir) {
        res.writeHead(404).end();
        return;
    }
    fs.readFile(file, (err, data) => {
        if (err) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' }).end(data);
    });
});
server.listen(0, '127.0.0.1', () => console.log(`serving http://127.0.0.1:${server.address().port}/`));
