/** Posting schedules: per-account recurring slots in a time zone, for "add to queue". */
export { EMPTY_SCHEDULE, findSchedule, saveSchedule } from './schedule.repository.ts';
export { scheduleRoutes } from './schedule.routes.ts';
export { type PostingSchedule, slotTimes, WEEKDAYS, type Weekday } from './slots.ts';
