// Jest globalSetup of the engine project: `bao`, `vault` if built, and the pinned `pulumi` CLI (see global-setup.js).
"use strict";
module.exports = () => require("./global-setup").provision(["bao", "vault", "pulumi"]);
