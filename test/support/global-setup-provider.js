// Jest globalSetup of the provider project: the serialized provider, `bao`, and `vault` if built (see global-setup.js).
"use strict";
module.exports = () => require("./global-setup").provision(["bao", "vault"]);
