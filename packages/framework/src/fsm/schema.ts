// The shape of a group's schema (GET .../schema): the commands and queries its state machine declares.

export interface SchemaField {
  type: string;
  optional: boolean;
  nullable?: boolean;
}

export interface OperationSchema {
  name: string;
  kind: 'command' | 'query';
  args: Record<string, SchemaField>;
}

export interface GroupSchema {
  group: string;
  type: string;
  commands: OperationSchema[];
  queries: OperationSchema[];
}
