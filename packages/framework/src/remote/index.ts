export { RemoteMachines, type RemoteMachineSpec, type RemoteMachinesOptions } from './remote-machines.js';
export { RemoteMachine, CHECKPOINT_EVERY, type RemoteMachineStatus, type MachineState } from './remote-machine.js';
export { REMOTE_PROTOCOL, parseHello, type MachineDeclaration, type HelloMessage, type ApplyEntry } from './remote-protocol.js';
export { checkRemoteArgs } from './remote-args.js';
