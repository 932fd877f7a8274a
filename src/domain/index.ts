export * from './duration';
export * from './policy';
export * from './report';
export * from './case';
export * from './scoring';
export * from './categorize';
export * from './escalation';
export * from './validation';
