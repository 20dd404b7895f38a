#!/usr/bin/env python3
"""Answers every message it receives with "echo: " and the message, through the local API of
a running `cipherchat daemon` (docs/API.md). Standard library only.

    cipherchat daemon --home ~/.cipherchat-bot &
    python3 examples/echo-bot.py ~/.cipherchat-bot/cipherchat.sock
"""
import json
import socket
import sys


def main(socket_path: str) -> None:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(socket_path)
    lines = connection.makefile("r", encoding="utf-8")
    next_id = 0

    def request(method, params=None):
        nonlocal next_id
        next_id += 1
        message = {"jsonrpc": "2.0", "id": next_id, "method": method, "params": params or {}}
        connection.sendall((json.dumps(message) + "\n").encode("utf-8"))
        return next_id

    subscription = request("subscribe")
    for line in lines:
        message = json.loads(line)
        if "id" in message:
            if "error" in message:
                print("error:", message["error"]["message"], file=sys.stderr, flush=True)
            elif message["id"] == subscription:
                # From here on every message the owner receives reaches this bot.
                print("subscribed", flush=True)
            continue
        if message.get("method") != "receive":
            continue
        received = message["params"]
        if received.get("kind") != "text":
            continue
        # A room message is answered in the room, a direct one to its sender.
        recipient = received.get("room") or received["from"]
        request("send", {"recipient": recipient, "message": "echo: " + received["text"]})
        print("answered", received["from"], flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: echo-bot.py HOME/cipherchat.sock")
    main(sys.argv[1])
