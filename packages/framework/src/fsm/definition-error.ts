/** A state machine class is declared wrongly; the message says what to change. */
export class StateMachineDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateMachineDefinitionError';
  }
}
