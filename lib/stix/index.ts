/** lib/stix: the product's typed STIX 2.1 layer. See .tmp/STIX_API.md for the contract. */
export * from './core';
export * from './errors';
export * from './time';
export * from './canonical-json';
export * from './ids';
export * from './observables';
export * from './markings';
export * from './objects';
export * from './pattern';
export * from './builders';
export * from './author';
export * from './bundle';
export * from './opencti-extensions';
