#!/usr/bin/env node
// Starts bcoin's full node (with its wallet) on regtest, made to look like Bitcoin Core's
// regtest: bcoin's own regtest prefixes (R…, rb1…) are unknown to Python's Bitcoin
// libraries, so we swap in Core's before the node reads them. The seed list is emptied
// because a lone test node would otherwise keep dialling peers that do not exist.
// Arguments are bcoin's own (--http-port=…, --api-key=…, …); see tests/custody/bcoin.py.
'use strict';

const networks = require('bcoin/lib/protocol/networks');

const regtest = networks.regtest;
regtest.seeds = [];
regtest.addressPrefix = {
  ...regtest.addressPrefix,
  pubkeyhash: 0x6f,
  scripthash: 0xc4,
  bech32: 'bcrt'
};
regtest.keyPrefix = {
  ...regtest.keyPrefix,
  privkey: 0xef,
  xpubkey: 0x043587cf,
  xprivkey: 0x04358394,
  xpubkey58: 'tpub',
  xprivkey58: 'tprv'
};

process.env.BCOIN_NETWORK = 'regtest';
require('bcoin/bin/node');
