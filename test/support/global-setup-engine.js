// Jest globalSetup of the engine project: `bao` and the pinned `pulumi` CLI (see global-setup.js).
"use strict";
module.exports = () => require("./global-setup").provision(["bao", "pulumi"]);
